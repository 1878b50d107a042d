using System.ComponentModel.DataAnnotations;

namespace Anchor.Orleans.Grains.Mcp;

/// <summary>MCP transport sessions kept as cluster state (<c>Anchor:Mcp</c>).</summary>
public sealed class McpOptions
{
    public const string SectionName = "Mcp";

    /// <summary>An MCP transport session with no request for this long ends, on every silo.</summary>
    [Range(5, 7 * 24 * 3600)]
    public int SessionIdleTimeoutSeconds { get; set; } = 1800;
}
