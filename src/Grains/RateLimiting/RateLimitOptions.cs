using System.ComponentModel.DataAnnotations;

namespace Anchor.Orleans.Grains.RateLimiting;

/// <summary>Per-client tool-call and MCP request rates (<c>Anchor:RateLimit</c>).</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimit";

    /// <summary>Length of the per-client window.</summary>
    [Range(1, 31 * 86_400)]
    public int WindowSeconds { get; set; } = 3600;

    /// <summary>Tool calls a client may make per window.</summary>
    [Range(1, 100_000_000)]
    public int MaxRequests { get; set; } = 100;

    /// <summary>
    /// MCP requests other than well-formed calls of tools the client may call (initialize, tools/list, ping,
    /// notifications, SSE streams and messages, malformed bodies, and calls of unknown or denied tools — which also
    /// count as tool calls) a client may make per window; counted apart from tool calls.
    /// </summary>
    [Range(1, 100_000_000)]
    public int MaxProtocolRequests { get; set; } = 1000;
}
