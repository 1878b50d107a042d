using System.Text.Json;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Grains.Interfaces.Mcp;
using Anchor.Orleans.Grains.Resilience;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// MCP transport sessions as cluster state: the SDK persists an <c>initialize</c> client's handshake here, and any silo
/// that receives a request for a session it does not hold restores it from the session's grain.
/// </summary>
public sealed class ClusterSessionMigrationHandler(IGrainFactory grains, TimeProvider time) : ISessionMigrationHandler
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
            || context.Request.Headers[SessionHeader].ToString() is not { Length: > 0 } sessionId
            || context.User.GetClientId() is not { } clientId)
        {
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

    private static Task SessionNotFoundAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync("""{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}""", context.RequestAborted);
    }
}
