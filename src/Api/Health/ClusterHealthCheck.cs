using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Anchor.Orleans.Api.Health;

/// <summary>Healthy when the Orleans membership table lists active silos, this one among them.</summary>
public sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(cancellationToken);
            return hosts.Count > 0
                ? HealthCheckResult.Healthy($"{hosts.Count} active silo(s)", new Dictionary<string, object> { ["silos"] = hosts.Count })
                : HealthCheckResult.Unhealthy("No active silo in the membership table.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The answer names the type; the cause goes to the health-check log (redacted).
            return HealthCheckResult.Unhealthy($"Cluster membership unavailable: {ex.GetType().Name}.", ex);
        }
    }
}
