using System.Globalization;
using System.Text.Json;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.Admission;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.RateLimiting;
using Anchor.Orleans.Grains.RateLimiting;
using Anchor.Orleans.Grains.Resilience;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// Per-key limits on every MCP request, not only tool calls: <c>initialize</c>, <c>tools/list</c>, <c>ping</c>,
/// notifications, stream GETs, <c>DELETE /mcp</c> and legacy SSE (<c>GET /sse</c>, <c>POST /message</c>) each count
/// against the client's <c>RateLimit:MaxProtocolRequests</c> per <c>RateLimit:WindowSeconds</c>, in the client's own
/// rate-limiter grain log (kept apart from its tool-call log). A <c>tools/call</c> is counted once, by the tool
/// pipeline's admission against <c>RateLimit:MaxRequests</c>, so its refusal stays a tool result. A refused request
/// is 429 problem details <c>rate_limited</c> with <c>Retry-After</c>.
/// </summary>
public static class McpRequestAdmission
{
    /// <summary>Suffix of the rate-limiter grain key that holds a client's protocol requests (the tool log is the bare client id).</summary>
    public const string ProtocolLogSuffix = "#mcp-protocol";

    /// <summary>After authorization (the client is known) and before the transport-session gate (a refusal costs no session lookup).</summary>
    public static IApplicationBuilder UseMcpRequestAdmission(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!context.Request.Path.StartsWithSegments(McpExtensions.Path, StringComparison.OrdinalIgnoreCase)
            || context.User.GetClientId() is not { } clientId
            || await IsToolCallAsync(context.Request))
        {
            await next(context);
            return;
        }

        var services = context.RequestServices;
        var options = services.GetRequiredService<IOptionsMonitor<RateLimitOptions>>().CurrentValue;
        var limiter = services.GetRequiredService<IGrainFactory>().GetGrain<IClientRateLimiterGrain>(clientId + ProtocolLogSuffix);
        var decision = await TransientClusterErrors.RetryAsync(
            ct => limiter.AcquireAsync(options.MaxProtocolRequests, options.WindowSeconds, ct),
            ClusterTransportSessions.RetryLimit,
            services.GetRequiredService<TimeProvider>(),
            context.RequestAborted);
        if (decision.Allowed)
        {
            await next(context);
            return;
        }

        services.GetRequiredService<AnchorMetrics>().Refused(ErrorCodes.RateLimited);
        var seconds = GovernedToolAdmission.RetryAfterSeconds(decision.RetryAfter);
        var detail = string.Create(
            CultureInfo.InvariantCulture,
            $"rate_limited: client '{clientId}' has made {decision.Limit} MCP requests in the last {decision.WindowSeconds} s (limit {decision.Limit}); retry after {seconds} s.");
        await ProblemResponses.Result(ErrorCodes.RateLimited, StatusCodes.Status429TooManyRequests, detail, TimeSpan.FromSeconds(seconds)).ExecuteAsync(context);
    });

    /// <summary>
    /// Whether the body is one JSON-RPC <c>tools/call</c> request. Anything else — other methods, batches, bodies that
    /// are not JSON — counts as a protocol request. The body is buffered so the MCP handler reads it again.
    /// </summary>
    private static async Task<bool> IsToolCallAsync(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method))
        {
            return false;
        }

        request.EnableBuffering();
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("method", out var method)
                && method.ValueKind == JsonValueKind.String
                && method.ValueEquals("tools/call");
        }
        catch (JsonException)
        {
            return false;
        }
        finally
        {
            request.Body.Position = 0;
        }
    }
}
