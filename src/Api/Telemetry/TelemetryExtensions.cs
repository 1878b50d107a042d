using System.Security.Cryptography;
using System.Text;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Anchor.Orleans.Api.Telemetry;

public static class TelemetryExtensions
{
    /// <summary>Meters exported at <c>/metrics</c> and over OTLP: the service's, Orleans', ASP.NET Core's HTTP server.</summary>
    public static readonly string[] Meters = [AnchorMetrics.MeterName, "Microsoft.Orleans", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];

    private static readonly string[] UntracedPaths = ["/health", "/metrics", "/dashboard", Live.LiveLinks.PathPrefix.TrimEnd('/')];

    /// <summary>OpenTelemetry metrics (Prometheus, OTLP) and traces (OTLP, head-sampled), configured from <c>Anchor:Telemetry</c>.</summary>
    public static IHostApplicationBuilder AddAnchorTelemetry(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("Anchor:Telemetry");
        var otlp = AnchorTracing.OtlpEndpoint(builder.Configuration);
        var ratio = section.GetValue<double?>("TraceSamplingRatio") ?? (builder.Environment.IsDevelopment() ? 1.0 : 0.01);
        ratio = Math.Clamp(ratio, 0, 1);

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("anchor-orleans", serviceVersion: Status.StatusApi.Version, serviceInstanceId: Environment.MachineName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Meters).AddPrometheusExporter();
                if (!string.IsNullOrEmpty(otlp))
                {
                    metrics.AddOtlpExporter(o => o.Endpoint = new Uri(otlp));
                }
            })
            .WithTracing(tracing =>
            {
                tracing.AddSource(AnchorTracing.SourceName, "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                    .AddAspNetCoreInstrumentation(o =>
                    {
                        o.Filter = context => !UntracedPaths.Any(p => context.Request.Path.StartsWithSegments(p));
                        // The query string can carry anything; the path is enough to find a request.
                        o.EnrichWithHttpRequest = (activity, _) => activity.SetTag("url.query", null);
                    })
                    .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio)));
                if (!string.IsNullOrEmpty(otlp))
                {
                    tracing.AddOtlpExporter(o => o.Endpoint = new Uri(otlp));
                }
            });
        return builder;
    }

    /// <summary><c>/metrics</c> in Prometheus text; with <c>Anchor:Metrics:Token</c> set, only for that bearer token.</summary>
    public static WebApplication MapAnchorMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics").AddEndpointFilter(async (context, next) =>
        {
            var token = context.HttpContext.RequestServices.GetRequiredService<IOptionsMonitor<MetricsOptions>>().CurrentValue.Token;
            if (!string.IsNullOrEmpty(token) && !TokenMatches(context.HttpContext.Request.Headers.Authorization.ToString(), token))
            {
                context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
                return ProblemResponses.Result(ErrorCodes.Unauthorized, StatusCodes.Status401Unauthorized, "/metrics needs Authorization: Bearer <Anchor:Metrics:Token>.");
            }

            return await next(context);
        });
        return app;
    }

    private static bool TokenMatches(string header, string token)
    {
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(header[bearer.Length..].Trim())),
            SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }
}
