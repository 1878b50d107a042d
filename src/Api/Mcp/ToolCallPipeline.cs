using System.Diagnostics;
using System.Text.Json;
using Anchor.Orleans.Grains.Admission;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Resilience;
using Anchor.Orleans.Grains.Telemetry;
using Anchor.Orleans.Grains.Tools;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// What every tool call passes through, in one place: the caller's identity and tool policy, admission
/// (emergency switch, rate limit, budgets), then the tool; refusals and failures become tool errors whose text
/// begins with a stable code; one structured log line and the metrics per call.
/// </summary>
public static partial class ToolCallPipeline
{
    /// <summary>How long admission keeps trying through a failover before the call fails as <c>timeout</c>.</summary>
    private static readonly TimeSpan AdmissionRetryLimit = TimeSpan.FromSeconds(30);

    /// <summary>Codes that mean "refused by policy" rather than "failed" (the <c>refused</c> outcome).</summary>
    private static readonly HashSet<string> RefusalCodes =
    [
        ErrorCodes.RateLimited, ErrorCodes.BudgetExceeded, ErrorCodes.ConcurrencyLimit, ErrorCodes.EmergencyShutdown,
        ErrorCodes.ToolNotAllowed, ErrorCodes.UrlBlocked,
    ];

    public static IMcpServerBuilder WithAnchorPipeline(this IMcpServerBuilder builder) =>
        builder.WithRequestFilters(filters =>
        {
            filters.AddCallToolFilter(next => (context, cancellationToken) => CallAsync(next, context, cancellationToken));
            filters.AddListToolsFilter(next => async (context, cancellationToken) =>
            {
                var result = await next(context, cancellationToken);
                if (context.User?.Identity?.IsAuthenticated == true)
                {
                    var policy = context.Services!.GetRequiredService<ClientPolicies>().For(ToolContext.ClientIdOf(context.User));
                    var catalogue = context.Services!.GetRequiredService<ToolCatalogue>();
                    result.Tools = [.. result.Tools.Where(t => catalogue.Find(t.Name) is { } facts && catalogue.Allows(policy, facts))];
                }

                return result;
            });
        });

    private static async ValueTask<CallToolResult> CallAsync(
        McpRequestHandler<CallToolRequestParams, CallToolResult> next, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        var services = context.Services!;
        using var abandoned = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, CallRequestAborted(services));
        cancellationToken = abandoned.Token;
        var name = context.Params?.Name ?? "";
        // An unknown name is the caller's protocol error, already counted on the way in (McpRequestAdmission): no admission,
        // no metric label, no log line per name.
        var catalogue = services.GetRequiredService<ToolCatalogue>();
        var tool = catalogue.Find(name)
            ?? throw new McpProtocolException($"Unknown tool: '{name}'", McpErrorCode.InvalidParams);
        var metrics = services.GetRequiredService<AnchorMetrics>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Anchor.Orleans.Api.Mcp.ToolCalls");
        var sessionId = context.Params?.Arguments is { } args && args.TryGetValue("session_id", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        var clientId = context.User?.Identity?.IsAuthenticated == true ? ToolContext.ClientIdOf(context.User) : "anonymous";
        var started = Stopwatch.GetTimestamp();
        var startedAt = services.GetRequiredService<TimeProvider>().GetUtcNow();
        using var activity = AnchorTracing.Source.StartActivity($"tool {tool.Name}", ActivityKind.Server);
        activity?.SetTag("anchor.tool", tool.Name);
        activity?.SetTag("anchor.client_id", clientId);
        activity?.SetTag("anchor.session_id", sessionId);
        var charge = ToolReceipts.Begin(context);
        string? errorCode = null;
        var outcome = "success";
        ClientPolicy? policy = null;
        CallToolResult result;
        try
        {
            policy = services.GetRequiredService<ClientPolicies>().For(clientId);
            result = await RunAsync(next, context, services, catalogue, tool, policy, cancellationToken);
            if (result.IsError == true)
            {
                outcome = "error";
                errorCode = ErrorCodes.BrowserError;
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // The client gave up (notifications/cancelled, or its HTTP request closed): the session ended the action
            // uncharged, and nobody reads an answer.
            outcome = "cancelled";
            throw;
        }
        catch (AnchorException ex)
        {
            errorCode = ex.Code;
            outcome = RefusalCodes.Contains(ex.Code) ? "refused" : "error";
            if (outcome == "refused" && ex.Code != ErrorCodes.UrlBlocked)
            {
                // Admission refusals; a blocked URL is the agent's request refused, not the caller.
                metrics.Refused(ex.Code);
            }

            result = ToolResults.Error(ex.Message); // "{code}: {detail}", composed by the exception
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException)
        {
            // The SDK binds tool arguments before the tool runs: a missing or mistyped argument lands here.
            errorCode = ErrorCodes.InvalidArgument;
            outcome = "error";
            result = ToolResults.Error($"invalid_argument: {tool.Name}: {BindingMessage(ex)}");
        }
        catch (Exception ex) when (TransientClusterErrors.IsTransient(ex) && ex is not TimeoutException)
        {
            // The cluster is moving grains off a failed silo: retryable, and no storage failure.
            errorCode = ErrorCodes.Timeout;
            outcome = "error";
            LogToolFailed(logger, tool.Name, ex);
            result = ToolResults.Error($"timeout: {tool.Name} could not complete while the cluster replaces a failed silo; retry in a few seconds.");
        }
        catch (TimeoutException)
        {
            // A grain call outlived its response timeout: the browser action hung past every limit.
            errorCode = ErrorCodes.Timeout;
            outcome = "error";
            result = ToolResults.Error($"timeout: {tool.Name} did not answer in time.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            errorCode = ex is OrleansException ? ErrorCodes.StorageUnavailable : ErrorCodes.BrowserError;
            outcome = "error";
            LogToolFailed(logger, tool.Name, ex);
            result = ToolResults.Error($"{errorCode}: {tool.Name} failed unexpectedly; retry, and report request {context.JsonRpcRequest.Id} if it persists.");
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            activity?.SetTag("anchor.outcome", outcome);
            if (errorCode is not null)
            {
                activity?.SetTag("error.type", errorCode);
                activity?.SetStatus(ActivityStatusCode.Error, errorCode);
            }

            metrics.ToolCall(tool, outcome, errorCode, elapsed);
            // The cost the session charged: the same number on the receipt, the trace, the log line and the ledger.
            activity?.SetTag("anchor.cost_usd", (double)charge.CostUsd);
            using (logger.BeginScope(new Dictionary<string, object> { ["request_id"] = RequestIdOf(services) }))
            {
                LogToolCall(logger, tool.Name, clientId, charge.SessionId ?? sessionId ?? "", (long)elapsed.TotalMilliseconds, charge.CostUsd, outcome == "success", outcome, errorCode ?? "");
            }

            Timeline.TimelineCalls.Record(services, tool.Name, clientId, charge.SessionId ?? sessionId, context.Params?.Arguments, startedAt, elapsed, outcome, errorCode, charge, logger);
        }

        await ToolReceipts.WriteAsync(result, charge, policy, services.GetRequiredService<BudgetStatus>(), services.GetRequiredService<TimeProvider>(), cancellationToken);
        return result;
    }

    /// <summary>The caller's tool policy, admission (emergency switch, rate limit, budgets unless free), then the tool.</summary>
    private static async Task<CallToolResult> RunAsync(
        McpRequestHandler<CallToolRequestParams, CallToolResult> next, RequestContext<CallToolRequestParams> context, IServiceProvider services,
        ToolCatalogue catalogue, ToolFacts tool, ClientPolicy policy, CancellationToken cancellationToken)
    {
        if (!catalogue.Allows(policy, tool))
        {
            throw new AnchorException(ErrorCodes.ToolNotAllowed, $"{tool.Name} is not allowed for this client.");
        }

        using (AnchorTracing.Source.StartActivity("admission"))
        {
            // A governance grain on a silo that just died answers again once membership has moved it.
            var admission = services.GetRequiredService<IToolAdmission>();
            await TransientClusterErrors.RetryAsync(ct => admission.AdmitAsync(policy, tool, ct), AdmissionRetryLimit, services.GetRequiredService<TimeProvider>(), cancellationToken);
        }

        return await next(context, cancellationToken);
    }

    // JsonException messages end with a path and position that help; keep the first sentence-ish line only.
    private static string BindingMessage(Exception ex) => ex.Message.Split('\n', 2)[0].Trim();

    /// <summary>
    /// The abort of the Streamable HTTP POST whose response carries the call's answer. A client that closes it has given
    /// up on the call: no event store keeps answers for a later resume, so nobody could read it. The SDK ends a
    /// stateless call with its request; this ends an initialize client's too (the C# SDK client aborts the POST
    /// rather than send <c>notifications/cancelled</c> while its answer streams). A legacy SSE message's POST is
    /// answered at once and says nothing of the call.
    /// </summary>
    private static CancellationToken CallRequestAborted(IServiceProvider services) =>
        services.GetService<IHttpContextAccessor>()?.HttpContext is { } http && HttpMethods.IsPost(http.Request.Method) && http.Request.Path.StartsWithSegments(McpExtensions.Path)
            ? http.RequestAborted
            : CancellationToken.None;

    // The HTTP request that carried the call (legacy SSE calls arrive on a /message request of their own).
    private static string RequestIdOf(IServiceProvider services) =>
        services.GetService<IHttpContextAccessor>()?.HttpContext?.TraceIdentifier ?? "";

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool {Tool} by {ClientId} on {SessionId}: {DurationMs} ms, {CostUsd} USD, success {Success} ({Outcome}) {ErrorCode}")]
    private static partial void LogToolCall(ILogger logger, string tool, string clientId, string sessionId, long durationMs, decimal costUsd, bool success, string outcome, string errorCode);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tool {Tool} failed unexpectedly")]
    private static partial void LogToolFailed(ILogger logger, string tool, Exception exception);
}
