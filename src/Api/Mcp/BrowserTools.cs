using System.ComponentModel;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Tools;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Polly;
using Polly.Retry;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// Runs browser actions in the caller's session for the tool families (<see cref="BrowserToolFamilies"/>), and
/// serves <c>browser_close</c>. Every tool takes an optional <c>session_id</c>; without it the call uses the caller's
/// default session.
/// </summary>
[McpServerToolType]
public sealed class BrowserTools(IGrainFactory grains, TimeProvider time, ElsewhereRetry elsewhere)
{
    internal const string SessionIdHelp = ToolHelp.SessionId;

    [ToolFacts(Free = true)]
    [McpServerTool(Name = "browser_close", Title = "Close the browser", Destructive = true, Idempotent = true, OpenWorld = false)]
    [Description("Closes the browser session (your default session unless session_id is given), settles its cost and frees its slot.")]
    public async Task<CallToolResult> CloseAsync(
        RequestContext<CallToolRequestParams> context,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        var (id, _) = ToolContext.Resolve(session_id, clientId);
        var closed = await grains.GetGrain<IBrowserSessionGrain>(id).CloseAsync(clientId, SessionEndReason.Completed);
        ToolReceipts.Charge(context, id, closed.ChargedUsd, closed.CostUsd);
        return ToolResults.Text(closed.Closed ? "Browser closed." : "No browser was open.");
    }

    /// <summary>
    /// Runs <paramref name="action"/> in the caller's session. A call that reaches a stray activation (one the grain
    /// directory is handing over, already deactivated) is retried every 250 ms for up to 15 s: the next finds the live one.
    /// </summary>
    internal async Task<ActionResult> ExecuteAsync(RequestContext<CallToolRequestParams> context, string? sessionId, BrowserAction action, CancellationToken cancellationToken)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        var (id, isDefault) = ToolContext.Resolve(sessionId, clientId);
        var resilience = ResilienceContextPool.Shared.Get(cancellationToken);
        resilience.Properties.Set(ElsewhereRetry.GiveUpAt, time.GetUtcNow() + ElsewhereRetry.Limit);
        // A client that sent a progressToken hears of the call at least every 5 s, and of each step of a task.
        await using var progress = CallProgress.Of(context)?.Start(context.Params?.Name ?? action.Name, grains, time, cancellationToken);
        try
        {
            // A default session's first call opens it, and waits in the fair queue when the cluster is full. The token
            // (the client's notifications/cancelled, or its HTTP request aborted) reaches the session wherever it runs.
            var result = await elsewhere.Pipeline.ExecuteAsync(
                async ctx => await Sessions.SessionQueueWait.OpenAsync(
                    () => grains.GetGrain<IBrowserSessionGrain>(id).ExecuteAsync(clientId, action, isDefault, progress?.Listener, ctx.CancellationToken), clientId, context, grains, time, ctx.CancellationToken),
                resilience);
            if (progress is not null && result.Steps is { Count: > 0 } steps)
            {
                await progress.StepsFinishedAsync(steps, action is RunTaskAction task ? task.Steps.Count + 1 : steps.Count);
            }

            ToolReceipts.Charge(context, id, result.ChargedUsd, result.SessionCostUsd, result.Restored, result.Handoff, result.PageUrl);
            return result;
        }
        catch (SessionElsewhereException)
        {
            throw new AnchorException(ErrorCodes.BrowserError, $"session '{id}' could not be reached while the cluster changed; retry in a few seconds.");
        }
        finally
        {
            ResilienceContextPool.Shared.Return(resilience);
        }
    }
}

/// <summary>The retry of a call that reached a session's stray activation: every 250 ms until <see cref="Limit"/> has passed.</summary>
public sealed class ElsewhereRetry
{
    /// <summary>How long a call keeps looking for a session whose activation the grain directory is handing over.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(15);

    /// <summary>When the call that carries this property stops retrying.</summary>
    public static readonly ResiliencePropertyKey<DateTimeOffset> GiveUpAt = new("anchor.session-elsewhere.give-up-at");

    public ElsewhereRetry(TimeProvider time)
    {
        Pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is SessionElsewhereException && time.GetUtcNow() < args.Context.Properties.GetValue(GiveUpAt, DateTimeOffset.MinValue)),
                BackoffType = DelayBackoffType.Constant,
                Delay = TimeSpan.FromMilliseconds(250),
                UseJitter = false,
                MaxRetryAttempts = int.MaxValue,
            })
            .Build();
    }

    public ResiliencePipeline Pipeline { get; }
}
