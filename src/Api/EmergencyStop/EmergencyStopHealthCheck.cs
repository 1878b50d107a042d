using Anchor.Orleans.Grains.EmergencyStop;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Anchor.Orleans.Api.EmergencyStop;

/// <summary>
/// Degraded, with the reason, while this silo refuses work because of the switch (tripped, or its view is stale).
/// Degraded rather than Unhealthy on purpose: readiness stays 200 so pods stay behind the Service, agents get
/// the stable <c>emergency_shutdown</c> refusal with its reason instead of a bare 503 from the ingress, and
/// operators can reach <c>DELETE /api/emergency-shutdown</c> without port-forwarding. <c>/health</c> and
/// <c>/health/ready</c> report it in their JSON.
/// </summary>
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
            ? HealthCheckResult.Degraded(reason, data: data)
            : HealthCheckResult.Healthy("Emergency switch is off.", data));
    }
}
