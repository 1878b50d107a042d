using System.ComponentModel.DataAnnotations;

namespace Anchor.Orleans.Api.Health;

/// <summary>Thresholds of the local resource checks (<c>Anchor:Health</c>).</summary>
public sealed class HealthOptions
{
    public const string SectionName = "Health";

    /// <summary>Process memory, as a percentage of the memory available to it, past which the silo reports Degraded.</summary>
    [Range(0.01, 100)]
    public double MemoryDegradedPercent { get; set; } = 80;

    /// <summary>Used space of the disk holding the app past which the silo reports Degraded.</summary>
    [Range(0.01, 100)]
    public double DiskDegradedPercent { get; set; } = 90;
}
