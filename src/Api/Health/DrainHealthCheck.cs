using Anchor.Orleans.Grains.Sessions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Anchor.Orleans.Api.Health;

/// <summary>Unhealthy from the moment the silo starts draining, so readiness takes it out of rotation at once.</summary>
public sealed class DrainHealthCheck(SessionDrain drain) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(drain.IsDraining
            ? HealthCheckResult.Unhealthy("Draining for shutdown: no new sessions here.")
            : HealthCheckResult.Healthy("Accepting sessions."));
}
