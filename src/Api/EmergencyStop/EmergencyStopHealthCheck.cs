using Anchor.Orleans.Grains.EmergencyStop;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Anchor.Orleans.Api.EmergencyStop;

/// <summary>Unhealthy while this silo refuses work because of the switch (tripped, or its view is stale), so readiness fails.</summary>
public sealed class EmergencyStopHealthCheck(EmergencyStopView view) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var state = view.State;
        var data = new Dictionary<string, object>
        {
            ["tripped"] = state?.Tripped ?? true,
            ["version"] = state?.Version ?? -1,
        };
        if (view.HeardAt is { } heard)
        {
            data["heard_at"] = heard;
        }

        return Task.FromResult(view.RefusalReason() is { } reason
            ? HealthCheckResult.Unhealthy(reason, data: data)
            : HealthCheckResult.Healthy("Emergency switch is off.", data));
    }
}
