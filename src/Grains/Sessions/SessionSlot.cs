using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions.Billing;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>
/// A session's hold on one of the cluster's session slots (its lease in the registry): taken at open (or queued for,
/// or refused) with the opening's first reservation and its page, given back when the session ends, together with the
/// settlement of its <see cref="SessionAccount"/>.
/// </summary>
public sealed partial class SessionSlot(
    string sessionId,
    string siloName,
    IGrainFactory grains,
    ClientPolicies policies,
    SessionAccount account,
    SessionBrowser browser,
    AnchorMetrics metrics,
    TimeProvider time,
    ILogger logger)
{
    private ISessionRegistryGrain Registry => grains.GetGrain<ISessionRegistryGrain>(0);

    /// <summary>
    /// Opens the session for <paramref name="clientId"/>: takes a slot (or throws: queued, and the front waits and calls
    /// again; or refused), reserves the opening's first amount and opens its page (with <paramref name="storageState"/>,
    /// if given). No lease or reservation outlives a failed open, whatever failed (a refusal, storage, a cancelled request).
    /// </summary>
    public async Task<(SessionLease Lease, BrowserPage Page)> OpenAsync(string clientId, string? storageState, CancellationToken cancellationToken)
    {
        var lease = await AcquireAsync(clientId, cancellationToken);
        try
        {
            var reserved = await account.ReserveOpeningAsync(clientId, lease.AcquiredAt, cancellationToken);
            var page = await browser.OpenAsync(clientId, storageState, cancellationToken);
            account.Open(clientId, lease.AcquiredAt, reserved);
            return (lease, page);
        }
        catch (Exception ex)
        {
            await AbandonAsync(clientId, lease.AcquiredAt, ex);
            throw;
        }
    }

    private async Task<SessionLease> AcquireAsync(string clientId, CancellationToken cancellationToken)
    {
        var lease = await Registry.AcquireAsync(sessionId, clientId, siloName, policies.For(clientId).MaxSessions, cancellationToken);
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

    /// <summary>How the session ended for <paramref name="clientId"/>, if it did lately (or that it lives on another silo).</summary>
    public Task<EndedSession?> EndedAsync(string clientId) => Registry.GetEndedAsync(sessionId, clientId, siloName);

    /// <summary>
    /// Why a call of <paramref name="clientId"/> finds no session to open here (<paramref name="ended"/>, if a restore
    /// already learned it): it lives elsewhere, it ended, or it is unknown; null when a default session may open
    /// (<paramref name="mayOpen"/>). A default session whose browser was lost says so once (session_expired); the next
    /// call opens a fresh one.
    /// </summary>
    public async Task<Exception?> RefusalAsync(string clientId, EndedSession? ended, bool mayOpen)
    {
        ended ??= await EndedAsync(clientId);
        if (ended is { LiveElsewhere: true })
        {
            return new SessionElsewhereException(sessionId);
        }

        return !mayOpen || ended is { JustLost: true } ? (ended is not null ? SessionErrors.Expired(ended) : SessionErrors.NotFound(sessionId)) : null;
    }

    /// <summary>Releases what a failed open took: the reservation (settled at zero, if it landed) and the lease.</summary>
    private async Task AbandonAsync(string clientId, DateTimeOffset openedAt, Exception cause)
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
