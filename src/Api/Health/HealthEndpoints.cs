using System.Text.Json;
using System.Text.RegularExpressions;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Logging;
using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Health;

public static partial class HealthEndpoints
{
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
        // The API's JSON convention (snake_case), as every operator endpoint writes it.
        var json = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        if (!context.User.IsInRole(nameof(ApiRole.Operator)))
        {
            var names = new HealthSummary(
                report.Status.ToString(),
                report.Entries.ToDictionary(e => e.Key, e => new CheckSummary(e.Value.Status.ToString())));
            return context.Response.WriteAsync(JsonSerializer.Serialize(names, json));
        }

        var secrets = context.RequestServices.GetService<SecretValues>();
        var body = new HealthResponse(
            report.Status.ToString(),
            Math.Round(report.TotalDuration.TotalMilliseconds, 2),
            report.Entries.ToDictionary(
                e => e.Key,
                e => new CheckResponse(
                    e.Value.Status.ToString(),
                    Math.Round(e.Value.Duration.TotalMilliseconds, 2),
                    e.Value.Description is { } d ? Redact(d, secrets) : null,
                    e.Value.Data.ToDictionary(p => p.Key, p => p.Value is string text ? Redact(text, secrets) : p.Value))));
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, json));
    }

    /// <summary>Configured secrets and URL credentials (<see cref="SecretValues"/>), then the values of credential-named query parameters.</summary>
    internal static string Redact(string text, SecretValues? secrets) =>
        CredentialParameter().Replace(secrets?.Redact(text) ?? AnchorTracing.WithoutCredentials(text), m => m.Groups["name"].Value + "=" + SecretValues.Mask);

    [GeneratedRegex(@"(?<name>[A-Za-z0-9_\-]*(?:token|key|secret|auth|pass|sig|session)[A-Za-z0-9_\-]*)=[^&\s""'<>]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CredentialParameter();
}

/// <summary>What <c>/health</c> tells an operator: the overall status and each check's, with timing, description and data (redacted).</summary>
public sealed record HealthResponse(string Status, double TotalDurationMs, IReadOnlyDictionary<string, CheckResponse> Checks);

/// <summary>One check as an operator sees it.</summary>
public sealed record CheckResponse(string Status, double DurationMs, string? Description, IReadOnlyDictionary<string, object> Data);

/// <summary>What <c>/health</c> tells anyone else: status names only.</summary>
public sealed record HealthSummary(string Status, IReadOnlyDictionary<string, CheckSummary> Checks);

/// <summary>One check's status, for an anonymous prober.</summary>
public sealed record CheckSummary(string Status);
