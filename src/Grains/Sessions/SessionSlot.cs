using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions.Billing;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>
/// A session's hold on one of the cluster's session slots (its lease in the registry): taken at open (or queued for,
/// or refused), given back when the session ends, together with the settlement of its <see cref="SessionAccount"/>.
/// </summary>
public sealed partial class SessionSlot(
    string sessionId, string siloName, IGrainFactory grains, SessionAccount account, AnchorMetrics metrics, TimeProvider time, ILogger logger)
{
    private ISessionRegistryGrain Registry => grains.GetGrain<ISessionRegistryGrain>(0);

    /// <summary>Takes a slot for <paramref name="clientId"/>, or throws: queued (the front waits and calls again) or refused.</summary>
    public async Task<SessionLease> AcquireAsync(string clientId, int maxPerClient, CancellationToken cancellationToken)
    {
        var lease = await Registry.AcquireAsync(sessionId, clientId, siloName, maxPerClient, cancellationToken);
        if (lease.Queued is { } queued)
        {
            // No slot free: the front that holds the agent's request waits in the registry's queue and calls again.
            throw new SessionQueuedException(sessionId, queued);
        }

        if (!lease.Granted)
        {
            metrics.Refused(lease.RefusalCode!);
            throw new AnchorException(lease.RefusalCode!, lease.RefusalMessage!, lease.RetryAfter);
        }

        return lease.Lease!;
    }

    /// <summary>Releases what a failed open took: the reservation (settled at zero, if it landed) and the lease.</summary>
    public async Task AbandonAsync(string clientId, DateTimeOffset openedAt, Exception cause)
    {
        LogOpenFailed(logger, sessionId, cause);
        try
        {
            await account.AbandonOpeningAsync(clientId, openedAt);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSettleDeferred(logger, sessionId, ex);
        }

        try
        {
            await Registry.ReleaseAsync(sessionId, SessionEndReason.Failed);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSettleDeferred(logger, sessionId, ex);
        }
    }

    /// <summary>
    /// Settles the session at what it ran up by <paramref name="now"/> (never more than it holds reserved) and releases its
    /// lease; answers the cost. <paramref name="hostedHere"/>: its browser was open on this silo.
    /// </summary>
    public async Task<decimal> SettleAndReleaseAsync(SessionEndReason reason, DateTimeOffset now, bool hostedHere)
    {
        var cost = account.Close(now);
        if (hostedHere)
        {
            metrics.SessionClosed(reason, now - account.OpenedAt);
        }
        else
        {
            metrics.SessionEnded(reason, now - account.OpenedAt);
        }

        try
        {
            await account.SettleAsync(cost);
            // Through a failover of the registry too (idempotent); only a lasting failure is left to the sweep.
            await Resilience.TransientClusterErrors.RetryAsync(_ => Registry.ReleaseAsync(sessionId, reason), LedgerSessionBudget.SettleRetryLimit, time);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Left to the registry: its sweep ends the lease and settles; settlement happens exactly once either way.
            LogSettleDeferred(logger, sessionId, ex);
        }

        LogEnded(logger, sessionId, account.ClientId, AnchorMetrics.ReasonLabel(reason), cost);
        return cost;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {ClientId} ended ({Reason}), cost {CostUsd} USD")]
    private static partial void LogEnded(ILogger logger, string sessionId, string clientId, string reason, decimal costUsd);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} could not settle or release its lease now; the registry sweep will")]
    private static partial void LogSettleDeferred(ILogger logger, string sessionId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} could not open; its lease and reservation are released")]
    private static partial void LogOpenFailed(ILogger logger, string sessionId, Exception exception);
}
