using System.Text.Json;
using System.Text.RegularExpressions;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Logging;
using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Anchor.Orleans.Api.Health;

public static partial class HealthEndpoints
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
    /// For an operator (an authenticated Operator key): <c>{ status, total_duration_ms, checks: { name: { status,
    /// duration_ms, description, data } } }</c>, descriptions and data redacted (configured secrets, URL credentials,
    /// credential-named query parameters). For anyone else: <c>{ status, checks: { name: { status } } }</c> — a failing
    /// check's message (a Playwright error naming a CDP endpoint and its token, a Redis host) is no business of an
    /// anonymous prober. Healthy and Degraded answer 200, Unhealthy 503 (the framework's mapping).
    /// </summary>
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        if (!context.User.IsInRole(nameof(ApiRole.Operator)))
        {
            var names = new
            {
                status = report.Status.ToString(),
                checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString() }),
            };
            return context.Response.WriteAsync(JsonSerializer.Serialize(names, Json));
        }

        var secrets = context.RequestServices.GetService<SecretValues>();
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
                    description = e.Value.Description is { } d ? Redact(d, secrets) : null,
                    data = e.Value.Data.ToDictionary(p => p.Key, p => p.Value is string text ? Redact(text, secrets) : p.Value),
                }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, Json));
    }

    /// <summary>Configured secrets and URL credentials (<see cref="SecretValues"/>), then the values of credential-named query parameters.</summary>
    internal static string Redact(string text, SecretValues? secrets) =>
        CredentialParameter().Replace(secrets?.Redact(text) ?? AnchorTracing.WithoutCredentials(text), m => m.Groups["name"].Value + "=" + SecretValues.Mask);

    [GeneratedRegex(@"(?<name>[A-Za-z0-9_\-]*(?:token|key|secret|auth|pass|sig|session)[A-Za-z0-9_\-]*)=[^&\s""'<>]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CredentialParameter();
}
