using Anchor.Orleans.Grains.Browser;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Anchor.Orleans.Api.Health;

/// <summary>
/// Degraded, with the reason, when this silo's browser cannot launch (or the remote browser cannot be reached).
/// Launching warms the browser for the first session. Degraded, not Unhealthy: the silo still serves
/// everything else, and the failure is reported to agents as <c>browser_error</c>.
/// </summary>
public sealed class BrowserHealthCheck(BrowserEngine engine) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["mode"] = engine.IsRemote ? "cdp" : "launch" };
        var failure = await engine.ProbeAsync(cancellationToken);
        return failure is null
            ? HealthCheckResult.Healthy(engine.IsRemote ? "Remote browser connected." : "Chromium running.", data)
            : HealthCheckResult.Degraded(failure, data: data);
    }
}
