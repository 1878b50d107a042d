using Anchor.Orleans.Grains.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Anchor.Orleans.Api.Health;

/// <summary>Pings Redis when the cluster uses it; in-memory storage is always reachable.</summary>
public sealed class StorageHealthCheck(RedisConnection redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!redis.IsConfigured)
        {
            return HealthCheckResult.Healthy("In-memory grain storage (development only).", new Dictionary<string, object> { ["provider"] = "Memory" });
        }

        try
        {
            var connection = await redis.GetAsync().WaitAsync(cancellationToken);
            var latency = await connection.GetDatabase().PingAsync().WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy("Redis answers.", new Dictionary<string, object>
            {
                ["provider"] = "Redis",
                ["latency_ms"] = Math.Round(latency.TotalMilliseconds, 2),
            });
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The exception text can hold the connection string: the answer names the type only; the cause goes to the
            // health-check log, whose redacting logger masks the connection string's secrets.
            return HealthCheckResult.Unhealthy($"Redis unreachable: {ex.GetType().Name}.", ex, data: new Dictionary<string, object> { ["provider"] = "Redis" });
        }
    }
}
