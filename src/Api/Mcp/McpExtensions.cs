using Anchor.Orleans.Api.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.AspNetCore;

namespace Anchor.Orleans.Api.Mcp;

public static class McpExtensions
{
    public const string Path = "/mcp";

    /// <summary>
    /// The MCP server: current clients are served statelessly (any silo answers any request); clients that
    /// use the initialize handshake or legacy SSE get a transport session, which needs affinity only for SSE.
    /// Browser sessions never depend on the transport session: they are grains named by session_id.
    /// </summary>
    public static IMcpServerBuilder AddAnchorMcp(this IServiceCollection services)
    {
        services.AddTransient<BrowserTools>();
        return services.AddMcpServer(o => o.ServerInfo = new() { Name = "anchor-orleans", Version = Status.StatusApi.Version })
            .WithTools<BrowserSessionTools>()
            .WithTools<BrowserTools>()
            .WithTools<PageTools>()
            .WithTools<MouseTools>()
            .WithTools<TaskTools>()
            .WithTools<GovernanceTools>()
            .WithAnchorPipeline()
            .WithHttpTransport(o =>
            {
                o.SessionMode = HttpServerSessionMode.StatefulForInitializeClients;
                // Legacy SSE lacks backpressure; here every caller is authenticated and each tool call passes
                // the per-client rate limiter and budgets, which bound what an SSE client can queue.
#pragma warning disable MCP9004
                o.EnableLegacySse = true;
#pragma warning restore MCP9004
            });
    }

    /// <summary>Maps <c>/mcp</c> and the legacy <c>/sse</c> + <c>/message</c> pair, all behind API-key auth.</summary>
    public static IEndpointRouteBuilder MapAnchorMcp(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMcp(Path).RequireAuthorization(AuthPolicies.Agent);
        return endpoints;
    }

    /// <summary>Older clients (LibreChat's SSE type) are configured with <c>/sse</c>; serve them from the MCP group.</summary>
    public static IApplicationBuilder UseLegacySsePaths(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Request.Path.Equals("/sse", StringComparison.OrdinalIgnoreCase) || context.Request.Path.Equals("/message", StringComparison.OrdinalIgnoreCase))
        {
            context.Request.Path = new PathString(Path).Add(context.Request.Path);
        }

        return next(context);
    });
}
