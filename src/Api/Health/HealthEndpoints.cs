using System.Text.Json;
using Anchor.Orleans.Grains.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Anchor.Orleans.Api.Health;

public static class HealthEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    public static IServiceCollection AddAnchorHealth(this IServiceCollection services)
    {
        services.AddAnchorOptions<HealthOptions>(HealthOptions.SectionName);
        services.AddHealthChecks()
            .AddCheck<ClusterHealthCheck>("cluster", tags: [HealthTags.Ready], timeout: TimeSpan.FromSeconds(5))
            .AddCheck<StorageHealthCheck>("storage", tags: [HealthTags.Ready], timeout: TimeSpan.FromSeconds(5))
            .AddCheck<DrainHealthCheck>("drain", tags: [HealthTags.Ready])
            .AddCheck<BrowserHealthCheck>("browser", timeout: TimeSpan.FromSeconds(45))
            .AddCheck<MemoryHealthCheck>("memory")
            .AddCheck<DiskHealthCheck>("disk");
        return services;
    }

    /// <summary><c>/health</c> (every check), <c>/health/ready</c> (checks tagged ready), <c>/health/live</c> (no check).</summary>
    public static IEndpointRouteBuilder MapAnchorHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteAsync });
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(HealthTags.Ready), ResponseWriter = WriteAsync });
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync });
        return endpoints;
    }

    /// <summary>
    /// <c>{ status, total_duration_ms, checks: { name: { status, duration_ms, description, data } } }</c>.
    /// Healthy and Degraded answer 200, Unhealthy 503 (the framework's mapping).
    /// </summary>
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        var body = new
        {
            status = report.Status.ToString(),
            total_duration_ms = Math.Round(report.TotalDuration.TotalMilliseconds, 2),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new
                {
                    status = e.Value.Status.ToString(),
                    duration_ms = Math.Round(e.Value.Duration.TotalMilliseconds, 2),
                    description = e.Value.Description,
                    data = e.Value.Data,
                }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, Json));
    }
}
