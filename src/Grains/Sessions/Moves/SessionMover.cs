using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions.Billing;
using Anchor.Orleans.Grains.Sessions.Lifetime;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Sessions.Moves;

/// <summary>What a restore came to: the rebuilt page, or how the session ended, or neither (nothing to restore).</summary>
public sealed record RestoreOutcome(BrowserPage? Page, EndedSession? Ended);

/// <summary>
/// Moves a session between silos: parks it when its silo drains (after a last checkpoint), and rebuilds it from its
/// checkpoint on the silo its next call reaches, once the registry hands over the lease (drained, or lost with its silo
/// when <c>Sessions:RestoreOnLoss</c> is on). A session that cannot be rebuilt is ended, settled at its checkpoint's
/// figures (<c>endMoved</c> settles and releases it once they are loaded, and answers the cost).
/// </summary>
public sealed partial class SessionMover(
    string sessionId,
    string siloName,
    IGrainFactory grains,
    SessionCheckpointing checkpoints,
    SessionAccount account,
    SessionLifetime lifetime,
    SessionBrowser browser,
    Func<SessionEndReason, Task<decimal>> endMoved,
    Timeline.ISessionTimeline timeline,
    AnchorMetrics metrics,
    TimeProvider time,
    ILogger logger)
{
    private SessionRestored? _restored;

    private ISessionRegistryGrain Registry => grains.GetGrain<ISessionRegistryGrain>(0);

    /// <summary>
    /// Rebuilds the session for <paramref name="clientId"/> from its checkpoint when the registry hands it the lease, in a
    /// page opened with the checkpoint's storage state. Answers how the session ended when the
    /// checkpoint belongs to a session that is over (the checkpoint is then forgotten).
    /// </summary>
    public async Task<RestoreOutcome> RestoreAsync(string clientId, CancellationToken cancellationToken)
    {
        var saved = checkpoints.Saved;
        if (!saved.Exists || saved.ClientId != clientId)
        {
            return new RestoreOutcome(null, null);
        }

        var resume = await Registry.ResumeAsync(sessionId, clientId, siloName);
        if (resume.Lease is not { } lease)
        {
            if (resume.Ended is { LiveElsewhere: true })
            {
                throw new SessionElsewhereException(sessionId);
            }

            await checkpoints.ForgetAsync();
            return new RestoreOutcome(null, resume.Ended);
        }

        var how = SessionRestores.How(lease);
        if (!SessionRestores.MayRestore(how, saved))
        {
            // Its page may be what takes silos down: rebuilding it would replay that on this silo.
            metrics.SessionMoved("restore_refused");
            LogRestoreRefused(logger, sessionId, clientId, saved.LossRestores);
            await EndHereAsync(saved, lease, SessionEndReason.Failed);
            throw new AnchorException(ErrorCodes.BrowserError, $"session '{sessionId}' lost its silo again after being restored {saved.LossRestores} times; it is not restored again (a page that takes a silo down would take the next one down too) and was closed. Create a new session.");
        }

        var (kept, missing) = checkpoints.Read(saved);
        BrowserPage page;
        IReadOnlyList<string> problems;
        try
        {
            page = await browser.OpenAsync(clientId, kept.StorageState, cancellationToken);
            using var deadline = new ActionDeadline(browser.ActionLimit, time, CancellationToken.None, cancellationToken);
            problems = await page.RestoreAsync(kept, deadline);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // No browser to restore into: the session ends here, settled once at what it had run up.
            metrics.SessionMoved("restore_failed");
            LogRestoreFailed(logger, sessionId, ex);
            await EndHereAsync(saved, lease, SessionEndReason.Failed);
            throw new AnchorException(ErrorCodes.BrowserError, $"session '{sessionId}' moved to another silo ({how}) but its browser could not be rebuilt there; the session was closed. Create a new session.");
        }

        Load(saved, lease);
        checkpoints.LossRestores = saved.LossRestores + (how == "lost" ? 1 : 0);
        metrics.SessionMoved("restored");
        LogRestored(logger, sessionId, clientId, how, saved.TakenAt);
        _restored = new SessionRestored(how, saved.TakenAt, kept.Tabs.Count, [.. problems, .. missing]);
        // A drained silo's session moved on purpose; a lost silo's was rebuilt after the loss.
        _ = timeline.AppendAsync(sessionId, Timeline.TimelineEntry.Event(
            time.GetUtcNow(), how == "drained" ? Timeline.TimelineEvents.Moved : Timeline.TimelineEvents.Restored, clientId, how,
            $"{saved.Silo ?? "its silo"} → {siloName}", url: page.Url is { } url ? Timeline.TimelineArguments.MaskUrl(url) : null));
        return new RestoreOutcome(page, null);
    }

    /// <summary>The first answer after a restore, which says so (<see cref="SessionRestores.Note"/>); later answers as they are.</summary>
    public ActionResult WithRestoredNote(ActionResult result)
    {
        var restored = _restored;
        _restored = null;
        return result with { Text = restored is null ? result.Text : $"{SessionRestores.Note(restored)}\n\n{result.Text}", Restored = restored };
    }

    /// <summary>
    /// For a drain: writes a last checkpoint of <paramref name="page"/> and parks the lease at the cost so far, which it
    /// answers; null when either failed (the session then stays open here and the drain closes it, as before).
    /// </summary>
    public async Task<decimal?> ParkAsync(IPageCheckpoints page)
    {
        if (!await checkpoints.WriteFinalAsync(page))
        {
            return null;
        }

        var cost = account.CostAt(time.GetUtcNow());
        try
        {
            await Registry.ParkAsync(sessionId, cost);
            return cost;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSuspendFailed(logger, sessionId, ex);
            return null;
        }
    }

    /// <summary>Closes the parked session's browser here (its next call rebuilds it elsewhere).</summary>
    public async Task LeaveAsync(BrowserPage page, decimal costUsd)
    {
        metrics.SessionMoved("suspended");
        await browser.CloseAsync(page);

        LogSuspended(logger, sessionId, account.ClientId, costUsd);
    }

    /// <summary>
    /// Ends a parked session (closed, or timed out, while no silo held its browser), settled at its checkpoint's figures;
    /// null when the registry no longer holds it parked (then its checkpoint is forgotten, unless it lives elsewhere).
    /// </summary>
    public async Task<SessionClose?> EndParkedAsync(SessionEndReason reason)
    {
        var saved = checkpoints.Saved;
        var resume = await Registry.ResumeAsync(sessionId, saved.ClientId, siloName);
        if (resume.Lease is not { } lease)
        {
            if (resume.Ended is not { LiveElsewhere: true })
            {
                await checkpoints.ForgetAsync();
            }

            return null;
        }

        var cost = await EndHereAsync(saved, lease, reason);
        return new SessionClose(true, account.CloseChargeUsd, cost);
    }

    private Task<decimal> EndHereAsync(SessionCheckpoint saved, SessionLease lease, SessionEndReason reason)
    {
        Load(saved, lease);
        return endMoved(reason);
    }

    private void Load(SessionCheckpoint saved, SessionLease lease)
    {
        account.Load(saved, lease.AcquiredAt);
        lifetime.Begin(lease.ExpiresAt);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {ClientId} suspended for a move to another silo (cost so far {CostUsd} USD)")]
    private static partial void LogSuspended(ILogger logger, string sessionId, string clientId, decimal costUsd);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} could not be suspended; it is closed with the drain instead")]
    private static partial void LogSuspendFailed(ILogger logger, string sessionId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {ClientId} restored on this silo ({How}) from its checkpoint of {TakenAt:O}")]
    private static partial void LogRestored(ILogger logger, string sessionId, string clientId, string how, DateTimeOffset takenAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} of {ClientId} lost its silo again after {Restores} restores after losses; not restored, closed and settled")]
    private static partial void LogRestoreRefused(ILogger logger, string sessionId, string clientId, int restores);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} could not be restored here; it is closed and settled")]
    private static partial void LogRestoreFailed(ILogger logger, string sessionId, Exception exception);
}
