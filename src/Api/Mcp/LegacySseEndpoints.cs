using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Api.RequestLimits;
using Anchor.Orleans.Grains.Interfaces.Mcp;
using Anchor.Orleans.Grains.Resilience;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// The legacy SSE transport (<c>GET /sse</c> + <c>POST /message?sessionId=…</c>) without load-balancer affinity. The
/// stream lives on the silo that received the GET; a POST that reaches another silo is forwarded through the cluster
/// (<see cref="ILegacySseStreamGrain"/> to an observer on the stream's silo). The SDK's own handler keeps its streams
/// in one process's memory, so this replaces it with the same wire behaviour.
/// </summary>
public static partial class LegacySseEndpoints
{
    public static IEndpointRouteBuilder MapLegacySse(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet($"{McpExtensions.Path}/sse", StreamAsync).RequireAuthorization(AuthPolicies.Agent).ExcludeFromDescription();
        endpoints.MapPost($"{McpExtensions.Path}/message", MessageAsync).RequireAuthorization(AuthPolicies.Agent).WithMetadata(RequestBodyLimit.Mcp).ExcludeFromDescription();
        return endpoints;
    }

    private static async Task StreamAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var streams = services.GetRequiredService<LegacySseStreams>();
        var grains = services.GetRequiredService<IGrainFactory>();
        var loggers = services.GetRequiredService<ILoggerFactory>();
        var clientId = ToolContext.ClientIdOf(context.User);
        var sessionId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        // A key holds a bounded number of streams: the least recently used idle one is closed for this one, or it is refused.
        if (!await ClusterTransportSessions.HasRoomAsync(context, clientId, McpTransportKind.SseStream, sessionId))
        {
            return;
        }

        // Ends on client disconnect or when the silo stops (not only after the host's shutdown timeout).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        var cancellationToken = stop.Token;
        context.Response.Headers.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache,no-store";
        context.Response.Headers.ContentEncoding = "identity";
        context.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();

        var path = (context.Request.PathBase + context.Request.Path).ToString();
        var endpoint = $"{path[..(path.LastIndexOf('/') + 1)]}message?sessionId={sessionId}";
        await using var transport = new SseResponseStreamTransport(context.Response.Body, endpoint, sessionId);
        var stream = new LocalStream(transport, clientId, stop, services.GetRequiredService<TimeProvider>());
        streams.Add(sessionId, stream);
        var reference = grains.CreateObjectReference<ILegacySseStreamObserver>(stream);
        var grain = grains.GetGrain<ILegacySseStreamGrain>(sessionId);
        try
        {
            await grain.OpenAsync(clientId, reference, cancellationToken);
            var transportTask = transport.RunAsync(cancellationToken);
            try
            {
                await using var server = McpServer.Create(transport, services.GetRequiredService<IOptions<McpServerOptions>>().Value, loggers, services);
                context.Features.Set(server);
                await server.RunAsync(cancellationToken);
            }
            finally
            {
                await transport.DisposeAsync();
                await transportTask;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // How SSE streams normally end: the client went away, or this silo is stopping.
        }
        finally
        {
            streams.Remove(sessionId);
            grains.DeleteObjectReference<ILegacySseStreamObserver>(reference);
            try
            {
                await grain.CloseAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
                await grains.GetGrain<IMcpClientTransportsGrain>(clientId).CloseAsync(McpTransportKind.SseStream, sessionId, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
            }
            catch (Exception ex) when (TransientClusterErrors.IsTransient(ex) || ex is OrleansException)
            {
                // The route dies with the activation anyway; a forwarded message then finds no stream (404).
                LogCloseFailed(loggers.CreateLogger(typeof(LegacySseEndpoints)), ex);
            }
        }
    }

    private static async Task<IResult> MessageAsync(HttpContext context, string? sessionId)
    {
        if (string.IsNullOrWhiteSpace(sessionId))
        {
            return ProblemResponses.Result(ErrorCodes.InvalidArgument, StatusCodes.Status400BadRequest, "Missing sessionId query parameter.");
        }

        var services = context.RequestServices;
        var clientId = ToolContext.ClientIdOf(context.User);
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var json = await reader.ReadToEndAsync(context.RequestAborted);
        // Checked here, on the silo that received it, before it is forwarded: a body that is not one JSON-RPC message
        // is the client's error (a JsonException is answered 400 by the exception handler).
        if (string.IsNullOrWhiteSpace(json) || JsonSerializer.Deserialize<JsonRpcMessage>(json, McpJsonUtilities.DefaultOptions) is null)
        {
            return ProblemResponses.Result(ErrorCodes.InvalidArgument, StatusCodes.Status400BadRequest, "The request body must be one JSON-RPC message.");
        }

        bool delivered;
        if (services.GetRequiredService<LegacySseStreams>().TryGet(sessionId, out var local))
        {
            delivered = await local.ReceiveAsync(clientId, json);
        }
        else
        {
            var grain = services.GetRequiredService<IGrainFactory>().GetGrain<ILegacySseStreamGrain>(sessionId);
            delivered = await TransientClusterErrors.RetryAsync(
                ct => grain.DeliverAsync(clientId, json, ct), ClusterTransportSessions.RetryLimit, services.GetRequiredService<TimeProvider>(), context.RequestAborted);
        }

        // Unknown, closed and other clients' streams look alike, so a stream id reveals nothing to another client.
        return delivered ? TypedResults.Text("Accepted", statusCode: StatusCodes.Status202Accepted) : TypedResults.NotFound("Session ID not found.");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not unregister a legacy SSE stream")]
    private static partial void LogCloseFailed(ILogger logger, Exception exception);

    /// <summary>One open stream on this silo: hands a message, from here or forwarded from another silo, to its server.</summary>
    internal sealed class LocalStream(SseResponseStreamTransport transport, string clientId, CancellationTokenSource stop, TimeProvider time) : ILegacySseStreamObserver
    {
        private long _lastSeenTicks = time.GetUtcNow().UtcTicks;

        public Task<DateTimeOffset> LastSeenAsync() => Task.FromResult(new DateTimeOffset(Interlocked.Read(ref _lastSeenTicks), TimeSpan.Zero));

        public Task CloseAsync()
        {
            try
            {
                stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The stream had already ended.
            }

            return Task.CompletedTask;
        }

        public async Task<bool> ReceiveAsync(string caller, string messageJson)
        {
            if (caller != clientId)
            {
                return false;
            }

            Interlocked.Exchange(ref _lastSeenTicks, time.GetUtcNow().UtcTicks);

            var message = JsonSerializer.Deserialize<JsonRpcMessage>(messageJson, McpJsonUtilities.DefaultOptions);
            if (message is null)
            {
                return false;
            }

            // The tools read the caller from the message (as the SDK's handler sets it): the identity the POST proved.
            message.Context ??= new();
            message.Context.User = new ClaimsPrincipal(new ClaimsIdentity(
                [new Claim(AnchorClaims.ClientId, clientId), new Claim(ClaimTypes.NameIdentifier, clientId)],
                ApiKeyAuthenticationHandler.SchemeName,
                AnchorClaims.ClientId,
                ClaimTypes.Role));
            await transport.OnMessageReceivedAsync(message, CancellationToken.None);
            return true;
        }
    }
}

/// <summary>The legacy SSE streams this silo holds.</summary>
public sealed class LegacySseStreams
{
    private readonly ConcurrentDictionary<string, LegacySseEndpoints.LocalStream> _streams = new(StringComparer.Ordinal);

    internal void Add(string sessionId, LegacySseEndpoints.LocalStream stream) => _streams[sessionId] = stream;

    internal void Remove(string sessionId) => _streams.TryRemove(sessionId, out _);

    internal bool TryGet(string sessionId, out LegacySseEndpoints.LocalStream stream) => _streams.TryGetValue(sessionId, out stream!);
}
