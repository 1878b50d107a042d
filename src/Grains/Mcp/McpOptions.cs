using System.ComponentModel.DataAnnotations;

namespace Anchor.Orleans.Grains.Mcp;

/// <summary>MCP transport sessions kept as cluster state (<c>Anchor:Mcp</c>).</summary>
public sealed class McpOptions
{
    public const string SectionName = "Mcp";

    /// <summary>An MCP transport session with no request for this long ends, on every silo.</summary>
    [Range(5, 7 * 24 * 3600)]
    public int SessionIdleTimeoutSeconds { get; set; } = 1800;

    /// <summary>Open transport sessions (<c>initialize</c> clients) one key may hold; past it the oldest idle one is ended.</summary>
    [Range(1, 100_000)]
    public int MaxTransportSessionsPerClient { get; set; } = 64;

    /// <summary>Open legacy SSE streams (<c>GET /sse</c>) one key may hold; past it the oldest idle one is closed.</summary>
    [Range(1, 100_000)]
    public int MaxSseStreamsPerClient { get; set; } = 16;

    /// <summary>
    /// A transport session or SSE stream with no request for this long is idle: a key at its cap gets room by ending
    /// its least recently used idle one; with none idle, the new one is refused (<c>rate_limited</c>, 429).
    /// </summary>
    [Range(1, 7 * 24 * 3600)]
    public int ReclaimIdleAfterSeconds { get; set; } = 300;
}
