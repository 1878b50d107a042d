using System.Globalization;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Resilience;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Sessions;

/// <summary>
/// The agent's side of the registry's fair queue. When opening a session is queued (no slot free), the request that
/// carries the agent's call waits in the registry — short polls that the registry answers early when the queue moves,
/// so no call comes near Orleans' response timeout — reporting its position and wait as MCP progress at every poll
/// (at least every 5 s) when the client sent a <c>progressToken</c>, then opens again, which takes the offered slot. A wait that ends without a slot is
/// <c>concurrency_limit</c> with retry-after. The waiter is this request: if it goes (cancelled, its silo died), it
/// stops polling and the registry drops it, so nothing waits or holds a slot on behalf of nobody.
/// </summary>
public static class SessionQueueWait
{
    /// <summary>Longest single poll; the registry answers sooner when a slot is offered or the position moves.</summary>
    public static readonly TimeSpan PollLimit = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan FinalPoll = TimeSpan.FromSeconds(1);

    /// <summary>Runs <paramref name="open"/> (a session grain call of <paramref name="clientId"/> that may open a session), waiting for a slot while it is queued.</summary>
    public static async Task<T> OpenAsync<T>(
        Func<Task<T>> open, string clientId, RequestContext<CallToolRequestParams> context, IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken)
    {
        var registry = grains.GetGrain<ISessionRegistryGrain>(0);
        var progress = new QueueProgress(Mcp.CallProgress.Of(context), time);
        DateTimeOffset? giveUp = null;
        while (true)
        {
            SessionQueuedException queued;
            try
            {
                return await open();
            }
            catch (SessionQueuedException ex) when (ex.Wait is not null)
            {
                queued = ex;
            }

            // Queued again (the registry moved and forgot the queue, or an offer lapsed): the first deadline still holds.
            giveUp = giveUp is { } first && first < queued.Wait!.Deadline ? first : queued.Wait!.Deadline;
            var settled = false;
            try
            {
                await WaitForTurnAsync(registry, queued.SessionId, clientId, queued.Wait!, giveUp.Value, progress, time, cancellationToken);
                settled = true;
            }
            finally
            {
                if (!settled)
                {
                    await LeaveAsync(registry, queued.SessionId, clientId, time);
                }
            }
        }
    }

    /// <summary>Returns when the session should open again (a slot was offered, or the registry lost the request).</summary>
    private static async Task WaitForTurnAsync(
        ISessionRegistryGrain registry, string sessionId, string clientId, SlotWait wait, DateTimeOffset giveUp, QueueProgress progress, TimeProvider time, CancellationToken cancellationToken)
    {
        while (true)
        {
            await progress.ReportAsync(wait, cancellationToken);
            var left = giveUp - time.GetUtcNow();
            if (left <= TimeSpan.Zero && wait.State == SlotWaitState.Queued && wait.Deadline > giveUp)
            {
                // Queued again after a registry move, past the first deadline: the agent has waited long enough.
                throw new AnchorException(
                    ErrorCodes.ConcurrencyLimit,
                    string.Create(CultureInfo.InvariantCulture, $"no browser session slot came free in time ({wait.Waiting} waiting); retry after {PollLimit.TotalSeconds:0} s."),
                    PollLimit);
            }

            try
            {
                // Past the deadline the registry's answer is Expired (or Offered, if just in time); a short poll lets its
                // clock, if a little behind this silo's, catch up without spinning.
                wait = await registry.WaitForSlotAsync(sessionId, clientId, wait.Position, left <= TimeSpan.Zero ? FinalPoll : left < PollLimit ? left : PollLimit, cancellationToken);
            }
            catch (Exception ex) when (TransientClusterErrors.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                return; // The registry is moving to another silo; opening again queues there.
            }

            switch (wait.State)
            {
                case SlotWaitState.Offered or SlotWaitState.Unknown:
                    return;
                case SlotWaitState.Expired:
                    throw new AnchorException(ErrorCodes.ConcurrencyLimit, wait.RefusalMessage!, wait.RetryAfter);
            }
        }
    }

    private static async Task LeaveAsync(ISessionRegistryGrain registry, string sessionId, string clientId, TimeProvider time)
    {
        try
        {
            // Best effort and bounded: a waiter that cannot say it leaves is dropped when it stops polling.
            await registry.LeaveQueueAsync(sessionId, clientId).WaitAsync(TimeSpan.FromSeconds(2), time);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
        }
    }

    /// <summary>MCP progress for a queued request, when the client asked: its position and how long it has waited, at every poll.</summary>
    private sealed class QueueProgress(Mcp.CallProgress? progress, TimeProvider time)
    {
        private readonly long _started = time.GetTimestamp();

        public Task ReportAsync(SlotWait wait, CancellationToken cancellationToken) =>
            progress is null || wait.State != SlotWaitState.Queued
                ? Task.CompletedTask
                : progress.ReportAsync(
                    string.Create(CultureInfo.InvariantCulture, $"queued for a browser session slot: position {wait.Position} of {wait.Waiting}, waited {time.GetElapsedTime(_started).TotalSeconds:0} s, waiting until {wait.Deadline:O} at the latest"),
                    cancellationToken);
    }
}
