using System.Globalization;
using System.Text.Json;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.Admission;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Mcp;
using Anchor.Orleans.Grains.Telemetry;
using Anchor.Orleans.Grains.Interfaces.Mcp;
using Anchor.Orleans.Grains.Resilience;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// MCP transport sessions as cluster state: the SDK persists an <c>initialize</c> client's handshake here, and any silo
/// that receives a request for a session it does not hold restores it from the session's grain.
/// </summary>
public sealed class ClusterSessionMigrationHandler(IGrainFactory grains, TimeProvider time, IOptionsMonitor<McpOptions> options) : ISessionMigrationHandler
{
    /// <summary>Set by <see cref="ClusterTransportSessions.UseMcpSessionGate"/>: the parameters it already read.</summary>
    internal const string InitializeParamsItem = "anchor:mcp:initialize-params";

    public async ValueTask OnSessionInitializedAsync(HttpContext context, string sessionId, InitializeRequestParams initializeParams, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(initializeParams, McpJsonUtilities.DefaultOptions);
        var clientId = ToolContext.ClientIdOf(context.User);
        await TransientClusterErrors.RetryAsync(
            ct => grains.GetGrain<IMcpTransportSessionGrain>(sessionId).StartAsync(clientId, json, ct),
            ClusterTransportSessions.RetryLimit,
            time,
            cancellationToken);
        // The gate made room (held for it) before the SDK created the session: record it in the hold's place.
        var idle = TimeSpan.FromSeconds(options.CurrentValue.ReclaimIdleAfterSeconds);
        await TransientClusterErrors.RetryAsync(
            ct => grains.GetGrain<IMcpClientTransportsGrain>(clientId).OpenAsync(McpTransportKind.Session, sessionId, int.MaxValue, idle, ct),
            ClusterTransportSessions.RetryLimit,
            time,
            cancellationToken);
    }

    public async ValueTask<InitializeRequestParams?> AllowSessionMigrationAsync(HttpContext context, string sessionId, CancellationToken cancellationToken)
    {
        var json = context.Items[InitializeParamsItem] as string
            ?? (context.User.GetClientId() is { } clientId
                ? await TransientClusterErrors.RetryAsync(
                    ct => grains.GetGrain<IMcpTransportSessionGrain>(sessionId).TouchAsync(clientId, ct),
                    ClusterTransportSessions.RetryLimit,
                    time,
                    cancellationToken)
                : null);
        return json is null ? null : JsonSerializer.Deserialize<InitializeRequestParams>(json, McpJsonUtilities.DefaultOptions);
    }
}

public static class ClusterTransportSessions
{
    /// <summary>How long a request waits for a failing-over session grain before it is refused.</summary>
    internal static readonly TimeSpan RetryLimit = TimeSpan.FromSeconds(20);

    private const string SessionHeader = "Mcp-Session-Id";

    /// <summary>
    /// Every <c>/mcp</c> request that names a transport session asks the session's grain first, on every silo: an
    /// unknown, expired, ended or other client's session is 404 (JSON-RPC -32001, as the SDK answers), so a copy a silo
    /// still holds in memory cannot outlive <c>DELETE /mcp</c> or the idle TTL; <c>DELETE</c> ends it cluster-wide.
    /// Runs after authorization, so only authenticated agents reach it.
    /// </summary>
    public static IApplicationBuilder UseMcpSessionGate(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!context.Request.Path.Equals(McpExtensions.Path, StringComparison.OrdinalIgnoreCase)
            || context.User.GetClientId() is not { } clientId)
        {
            await next(context);
            return;
        }

        if (context.Request.Headers[SessionHeader].ToString() is not { Length: > 0 } sessionId)
        {
            // An initialize opens a transport session: the key must have room for one more (its oldest idle one may go).
            if (context.Items[McpRequestAdmission.ShapeItem] is McpMessageShape { Method: "initialize" } && !await HasRoomAsync(context, clientId, McpTransportKind.Session))
            {
                return;
            }

            await next(context);
            return;
        }

        var services = context.RequestServices;
        var grain = services.GetRequiredService<IGrainFactory>().GetGrain<IMcpTransportSessionGrain>(sessionId);
        var time = services.GetRequiredService<TimeProvider>();
        if (HttpMethods.IsDelete(context.Request.Method))
        {
            if (!await TransientClusterErrors.RetryAsync(ct => grain.EndAsync(clientId, ct), RetryLimit, time, context.RequestAborted))
            {
                await SessionNotFoundAsync(context);
                return;
            }

            // The SDK disposes this silo's copy, if it holds one; others answer 404 from now on.
            await next(context);
            return;
        }

        var initializeParams = await TransientClusterErrors.RetryAsync(ct => grain.TouchAsync(clientId, ct), RetryLimit, time, context.RequestAborted);
        if (initializeParams is null)
        {
            await SessionNotFoundAsync(context);
            return;
        }

        context.Items[ClusterSessionMigrationHandler.InitializeParamsItem] = initializeParams;
        await next(context);
    });

    /// <summary>
    /// Whether <paramref name="clientId"/> may open one more transport of <paramref name="kind"/>, ending its least recently
    /// used idle one at the cap; when it may not, the response is written (429 <c>rate_limited</c>, <c>Retry-After</c>).
    /// With <paramref name="id"/>, the new one is recorded too.
    /// </summary>
    internal static async Task<bool> HasRoomAsync(HttpContext context, string clientId, McpTransportKind kind, string? id = null)
    {
        var services = context.RequestServices;
        var options = services.GetRequiredService<IOptionsMonitor<McpOptions>>().CurrentValue;
        var cap = kind == McpTransportKind.Session ? options.MaxTransportSessionsPerClient : options.MaxSseStreamsPerClient;
        var idle = TimeSpan.FromSeconds(options.ReclaimIdleAfterSeconds);
        var registry = services.GetRequiredService<IGrainFactory>().GetGrain<IMcpClientTransportsGrain>(clientId);
        var admission = await TransientClusterErrors.RetryAsync(
            ct => id is null ? registry.MakeRoomAsync(kind, cap, idle, ct) : registry.OpenAsync(kind, id, cap, idle, ct),
            RetryLimit,
            services.GetRequiredService<TimeProvider>(),
            context.RequestAborted);
        if (admission.Allowed)
        {
            return true;
        }

        services.GetRequiredService<AnchorMetrics>().Refused(ErrorCodes.RateLimited);
        var seconds = GovernedToolAdmission.RetryAfterSeconds(admission.RetryAfter);
        var what = kind == McpTransportKind.Session ? "MCP transport sessions" : "legacy SSE streams";
        var detail = string.Create(
            CultureInfo.InvariantCulture,
            $"rate_limited: client '{clientId}' holds {admission.Open} open {what} (limit {admission.Cap}) and none has been idle for {options.ReclaimIdleAfterSeconds} s; close one (DELETE /mcp) or retry after {seconds} s.");
        await ProblemResponses.Result(ErrorCodes.RateLimited, StatusCodes.Status429TooManyRequests, detail, TimeSpan.FromSeconds(seconds)).ExecuteAsync(context);
        return false;
    }

    private static Task SessionNotFoundAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync("""{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}""", context.RequestAborted);
    }
}
