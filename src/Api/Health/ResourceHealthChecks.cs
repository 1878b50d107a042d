using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Health;

/// <summary>Degraded when the process uses more than <c>Health:MemoryDegradedPercent</c> of the memory it may use.</summary>
public sealed class MemoryHealthCheck(IOptionsMonitor<HealthOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var process = Process.GetCurrentProcess();
        // The GC knows the container's memory limit, or the machine's memory without one.
        var available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var used = process.WorkingSet64;
        var percent = available > 0 ? 100.0 * used / available : 0;
        var data = new Dictionary<string, object>
        {
            ["working_set_bytes"] = used,
            ["available_bytes"] = available,
            ["percent"] = Math.Round(percent, 1),
        };
        var threshold = options.CurrentValue.MemoryDegradedPercent;
        return Task.FromResult(percent > threshold
            ? HealthCheckResult.Degraded($"Process memory at {percent:F1}% (threshold {threshold}%).", data: data)
            : HealthCheckResult.Healthy($"Process memory at {percent:F1}%.", data));
    }
}

/// <summary>Degraded when the disk holding the app is fuller than <c>Health:DiskDegradedPercent</c>.</summary>
public sealed class DiskHealthCheck(IOptionsMonitor<HealthOptions> options, IHostEnvironment environment) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // statfs of the content root itself: the filesystem the app and its browser profiles live on.
        var drive = new DriveInfo(environment.ContentRootPath);
        var total = drive.TotalSize;
        var percent = total > 0 ? 100.0 * (total - drive.AvailableFreeSpace) / total : 0;
        var data = new Dictionary<string, object>
        {
            ["free_bytes"] = drive.AvailableFreeSpace,
            ["total_bytes"] = total,
            ["percent"] = Math.Round(percent, 1),
        };
        var threshold = options.CurrentValue.DiskDegradedPercent;
        return Task.FromResult(percent > threshold
            ? HealthCheckResult.Degraded($"Disk at {percent:F1}% (threshold {threshold}%).", data: data)
            : HealthCheckResult.Healthy($"Disk at {percent:F1}%.", data));
    }
}
