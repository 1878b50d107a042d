using System.Globalization;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.Admission;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.RateLimiting;
using Anchor.Orleans.Grains.RateLimiting;
using Anchor.Orleans.Grains.Resilience;
using Anchor.Orleans.Grains.Telemetry;
using Anchor.Orleans.Grains.Tools;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// Per-key limits on every MCP request, counted on the way in, before the transport-session gate, the SDK or a tool:
/// <c>initialize</c>, <c>tools/list</c>, <c>ping</c>, notifications, stream GETs, <c>DELETE /mcp</c>, legacy SSE
/// (<c>GET /sse</c>, <c>POST /message</c>), bodies that are not one JSON-RPC request, and tool calls that name a tool
/// which does not exist or which the caller may not call, each count against the client's
/// <c>RateLimit:MaxProtocolRequests</c> per <c>RateLimit:WindowSeconds</c> (a log of its own). Every tool call counts
/// against the tool-call limit too: a well-formed call of a tool the caller may call is counted once, by the tool
/// pipeline's admission, so its refusal stays a tool result; any other <c>tools/call</c> is counted here against the same
/// tool-call log (the catalogue is read locally: an unknown name costs no grain call but the limiters'). A refused request
/// is 429 problem details <c>rate_limited</c> with <c>Retry-After</c>.
/// </summary>
public static class McpRequestAdmission
{
    /// <summary>Suffix of the rate-limiter grain key that holds a client's protocol requests (the tool log is the bare client id).</summary>
    public const string ProtocolLogSuffix = "#mcp-protocol";

    /// <summary>The <see cref="McpMessageShape"/> of a POSTed body, for the transport-session gate.</summary>
    internal const string ShapeItem = "anchor:mcp:shape";

    /// <summary>After authorization (the client is known) and before the transport-session gate (a refusal costs no session lookup).</summary>
    public static IApplicationBuilder UseMcpRequestAdmission(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!context.Request.Path.StartsWithSegments(McpExtensions.Path, StringComparison.OrdinalIgnoreCase)
            || context.User.GetClientId() is not { } clientId)
        {
            await next(context);
            return;
        }

        var services = context.RequestServices;
        var shape = await ShapeOfAsync(context.Request);
        if (shape is not null)
        {
            context.Items[ShapeItem] = shape;
        }

        var policy = services.GetRequiredService<ClientPolicies>().For(clientId);
        if (shape is { WellFormed: true, IsToolCall: true } && services.GetRequiredService<ToolCatalogue>().Find(shape.ToolName) is { } tool
            && services.GetRequiredService<ToolCatalogue>().Allows(policy, tool))
        {
            // Counted by the tool pipeline's admission, which answers a refusal as a tool result.
            await next(context);
            return;
        }

        var options = services.GetRequiredService<IOptionsMonitor<RateLimitOptions>>().CurrentValue;
        var grains = services.GetRequiredService<IGrainFactory>();
        var time = services.GetRequiredService<TimeProvider>();
        var protocol = grains.GetGrain<IClientRateLimiterGrain>(clientId + ProtocolLogSuffix);
        var decision = await TransientClusterErrors.RetryAsync(
            ct => protocol.AcquireAsync(options.MaxProtocolRequests, options.WindowSeconds, ct), ClusterTransportSessions.RetryLimit, time, context.RequestAborted);
        if (!decision.Allowed)
        {
            await RefuseAsync(context, clientId, decision, "MCP requests");
            return;
        }

        if (shape is { IsToolCall: true })
        {
            // An unknown, denied or malformed tool call is still a tool call: the same log the pipeline's admission keeps.
            var tools = grains.GetGrain<IClientRateLimiterGrain>(clientId);
            decision = await TransientClusterErrors.RetryAsync(
                ct => tools.AcquireAsync(policy.MaxRequests, policy.WindowSeconds, ct), ClusterTransportSessions.RetryLimit, time, context.RequestAborted);
            if (!decision.Allowed)
            {
                await RefuseAsync(context, clientId, decision, "calls");
                return;
            }
        }

        await next(context);
    });

    private static async Task RefuseAsync(HttpContext context, string clientId, RateLimitDecision decision, string what)
    {
        context.RequestServices.GetRequiredService<AnchorMetrics>().Refused(ErrorCodes.RateLimited);
        var seconds = GovernedToolAdmission.RetryAfterSeconds(decision.RetryAfter);
        var detail = string.Create(
            CultureInfo.InvariantCulture,
            $"rate_limited: client '{clientId}' has made {decision.Limit} {what} in the last {decision.WindowSeconds} s (limit {decision.Limit}); retry after {seconds} s.");
        await ProblemResponses.Result(ErrorCodes.RateLimited, StatusCodes.Status429TooManyRequests, detail, TimeSpan.FromSeconds(seconds)).ExecuteAsync(context);
    }

    /// <summary>
    /// The shape of a POSTed body (null for other methods). The body is buffered so the MCP handler reads it again; it is
    /// bounded by the route's body limit, and read without building a document.
    /// </summary>
    private static async Task<McpMessageShape?> ShapeOfAsync(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method))
        {
            return null;
        }

        request.EnableBuffering();
        try
        {
            return await McpMessageShape.ReadAsync(request.Body, request.HttpContext.RequestAborted);
        }
        finally
        {
            request.Body.Position = 0;
        }
    }
}
