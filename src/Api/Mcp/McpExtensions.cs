using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Api.RequestLimits;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Mcp;
using Anchor.Orleans.Grains.Tools;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

public static class McpExtensions
{
    public const string Path = "/mcp";

    /// <summary>
    /// The MCP server. Any silo answers any request: 2026-07-28 clients are served statelessly; an <c>initialize</c>
    /// client's transport session is cluster state (<see cref="ClusterSessionMigrationHandler"/>), restored on whichever
    /// silo its next request reaches; legacy SSE messages are forwarded to the stream's silo (<see cref="LegacySseEndpoints"/>).
    /// Browser sessions never depend on the transport session: they are grains named by session_id.
    /// </summary>
    public static IMcpServerBuilder AddAnchorMcp(this IServiceCollection services)
    {
        services.AddTransient<BrowserTools>();
        services.AddSingleton<ElsewhereRetry>();
        services.AddSingleton<LegacySseStreams>();
        services.AddSingleton<ISessionMigrationHandler, ClusterSessionMigrationHandler>();
        // A silo's in-memory copy of a transport session goes with the cluster-wide TTL (the grain decides; see the gate).
        // MCP9006: stateful mode is the SDK's back-compat path, and the one initialize clients (most in use) need.
#pragma warning disable MCP9006
        services.AddOptions<HttpServerTransportOptions>().Configure<IOptions<McpOptions>>(
            (o, mcp) => o.IdleTimeout = TimeSpan.FromSeconds(mcp.Value.SessionIdleTimeoutSeconds));
#pragma warning restore MCP9006
        return services.AddMcpServer(o => o.ServerInfo = new() { Name = "anchor-orleans", Version = Status.StatusApi.Version })
            .WithCataloguedTools<BrowserSessionTools>()
            .WithCataloguedTools<ProfileTools>()
            .WithCataloguedTools<BrowserTools>()
            .WithBrowserToolFamilies()
            .WithCataloguedTools<GovernanceTools>()
            .WithCataloguedTools<HandoffTools>()
            .WithAnchorPipeline()
            .WithHttpTransport(o => o.SessionMode = HttpServerSessionMode.StatefulForInitializeClients);
    }

    /// <summary>
    /// Serves <typeparamref name="TTools"/>' tools and enters each in the <see cref="ToolCatalogue"/> with the facts its
    /// <see cref="ToolFactsAttribute"/> declares (none: a priced tool, not a search, on by default). A tool that answers
    /// with a record (<c>UseStructuredContent</c>) returns it as <c>structuredContent</c> and as the same JSON in a text
    /// item, its <c>outputSchema</c> generated from the record, both with <see cref="ToolJson.Options"/>.
    /// </summary>
    private static IMcpServerBuilder WithCataloguedTools<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods | DynamicallyAccessedMemberTypes.PublicConstructors)] TTools>(this IMcpServerBuilder builder)
    {
        foreach (var method in typeof(TTools).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
        {
            if (method.GetCustomAttribute<McpServerToolAttribute>() is { Name: { } name })
            {
                var facts = method.GetCustomAttribute<ToolFactsAttribute>()?.For(name) ?? new ToolFacts(name);
                builder.Services.AddSingleton(facts);
            }
        }

        return builder.WithTools<TTools>(McpToolJson.ForThisHost(ToolJson.Options));
    }

    /// <summary>Maps <c>/mcp</c> and the legacy <c>/sse</c> + <c>/message</c> pair, all behind API-key auth.</summary>
    public static IEndpointRouteBuilder MapAnchorMcp(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMcp(Path).RequireAuthorization(AuthPolicies.Agent).WithMetadata(RequestBodyLimit.Mcp);
        // Legacy SSE through any silo; the SDK's own SSE handler (EnableLegacySse) is off.
        endpoints.MapLegacySse();
        return endpoints;
    }

    /// <summary>
    /// A message POSTed to <c>/mcp</c> must say it is JSON: the SDK's transport reads it with ASP.NET Core's JSON reader,
    /// which throws (500) on any other content type, so those are answered 415 here first.
    /// </summary>
    public static IApplicationBuilder UseMcpContentTypeCheck(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (HttpMethods.IsPost(context.Request.Method)
            && context.Request.Path.Equals(Path, StringComparison.OrdinalIgnoreCase)
            && !context.Request.HasJsonContentType())
        {
            await ProblemResponses.WriteAsync(context, ErrorCodes.InvalidArgument, StatusCodes.Status415UnsupportedMediaType, "An MCP message is sent as Content-Type: application/json.");
            return;
        }

        await next(context);
    });

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
