using System.ComponentModel.DataAnnotations;

namespace Anchor.Orleans.Grains.Recording;

/// <summary>
/// Session recordings (<c>Anchor:Recording</c>): how large one session's trace may be, and how much the embedded
/// single-silo store holds in memory. Which clients are recorded is <c>Anchor:Clients:&lt;id&gt;:Recording</c>.
/// </summary>
public sealed class RecordingOptions
{
    public const string SectionName = "Recording";

    /// <summary>The largest trace chunk kept whole; a larger one is kept without its screenshots and resources (or empty), marked truncated.</summary>
    [Range(1_024, 512L * 1024 * 1024)]
    public long MaxTraceBytes { get; set; } = 20L * 1024 * 1024;

    /// <summary>Bytes of traces the in-memory store (Storage:Provider Memory) holds in all; past it the oldest traces are dropped.</summary>
    [Range(1_024, 8L * 1024 * 1024 * 1024)]
    public long MaxMemoryBytes { get; set; } = 256L * 1024 * 1024;
}
