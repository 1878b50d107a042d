using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Profiles;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Profiles;
using Anchor.Orleans.Grains.Sessions.Billing;
using Anchor.Orleans.Grains.Sessions.Lifetime;
using Anchor.Orleans.Grains.Sessions.Moves;
using Anchor.Orleans.Grains.Timeline;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>
/// One browser session. Its browser context lives in this activation's memory on the silo where it activated; a
/// checkpoint (tabs, cookies, localStorage, viewport, lifetime and money) is kept in grain storage after actions
/// that may change the page, so a session whose silo drains or dies is rebuilt on another silo at its next call and
/// says so (<see cref="ActionResult.Restored"/>). The grain orchestrates: its money is a <see cref="SessionAccount"/>
/// (reserve before spending, settle once at the end, wherever it ends), its lifetime (idle and maximum duration) a
/// <see cref="SessionLifetime"/>, its checkpoints a <see cref="SessionCheckpointing"/>, its moves a
/// <see cref="SessionMover"/>, its registry lease a <see cref="SessionSlot"/> and its page a <see cref="SessionBrowser"/>.
/// Closing never queues behind a running action: <see cref="CloseAsync"/> interleaves, cancels the action, closes
/// the browser context (which ends every Playwright call on it) and settles. An activation that holds no open
/// session (a refused create, an unknown id) deactivates as soon as its call ends; an open one is kept alive by
/// its lifetime timer.
/// </summary>
[global::Orleans.GrainDirectory.GrainDirectory(Hosting.OrleansHostingExtensions.SessionDirectoryName)]
[SessionPlacement] // The browser opens on the silo whose front received the call, unless that silo drains.
public sealed partial class BrowserSessionGrain(
    SessionServices services,
    [PersistentState("session-checkpoint", Hosting.OrleansHostingExtensions.StorageName)] IPersistentState<SessionCheckpoint> checkpoint,
    ILocalSiloDetails silo,
    Load.SiloLoads load,
    ILogger<BrowserSessionGrain> logger) : Grain, IBrowserSessionGrain
{
    private SessionAccount _account = null!;
    private SessionLifetime _lifetime = null!;
    private SessionCheckpointing _checkpoints = null!;
    private SessionBrowser _browser = null!;
    private SessionSlot _slot = null!;
    private SessionMover _mover = null!;
    private BrowserPage? _page;
    private int _calls; // Open, execute and save-profile calls in progress (they do not interleave with each other).
    private SessionEndReason? _ending;
    private DateTimeOffset? _endedAt;
    private Task? _end;
    private bool _closeOnReceipt; // This end's charge is on the receipt of the close call that made it (see RecordClosed).

    private string SessionId => this.GetPrimaryKeyString();

    private string SiloName => silo.SiloAddress.ToParsableString();

    private string Owner => _account.ClientId;

    private bool IsOpen => _page is not null;

    private DateTimeOffset Now => services.Time.GetUtcNow();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_account, _lifetime, _checkpoints, _browser, _slot, _mover) = services.Create(
            SessionId, SiloName, checkpoint, () => _end is null ? _page : null, reason => SettleAndReleaseAsync(reason, Now, hostedHere: false), logger);
        return Task.CompletedTask;
    }

    public Task<SessionInfo> OpenAsync(string clientId, string? profile = null, CancellationToken cancellationToken = default) =>
        CountedAsync(() => OpenOrInfoAsync(clientId, profile, cancellationToken));

    public Task<ProfileInfo> SaveProfileAsync(string clientId, string name, CancellationToken cancellationToken = default) =>
        CountedAsync(() => SaveProfileCoreAsync(clientId, name, cancellationToken));

    public Task<ActionResult> ExecuteAsync(string clientId, BrowserAction action, bool openIfNeeded = false, IActionProgress? progress = null, CancellationToken cancellationToken = default) =>
        CountedAsync(() => ExecuteCoreAsync(clientId, action, openIfNeeded, progress, cancellationToken));

    /// <summary>
    /// Runs one open, execute or save-profile call counted in <c>_calls</c>, so nothing lets the activation go while it
    /// runs; when it ends, an activation left holding no session goes.
    /// </summary>
    private async Task<T> CountedAsync<T>(Func<Task<T>> call)
    {
        _calls++;
        try
        {
            return await call();
        }
        finally
        {
            _calls--;
            DeactivateIfUnused();
        }
    }

    private async Task<SessionInfo> OpenOrInfoAsync(string clientId, string? profile, CancellationToken cancellationToken)
    {
        await EndInProgressAsync();
        if (IsOpen)
        {
            return Owner == clientId ? Info() : throw NotFound();
        }

        if (await _slot.EndedAsync(clientId) is { } ended)
        {
            throw ended.LiveElsewhere ? new SessionElsewhereException(SessionId) : SessionErrors.Expired(ended);
        }

        await OpenCoreAsync(clientId, cancellationToken, await SessionProfiles.LoadAsync(GrainFactory, clientId, profile));
        return Info();
    }

    private async Task<ProfileInfo> SaveProfileCoreAsync(string clientId, string name, CancellationToken cancellationToken)
    {
        ClientProfilesGrain.CheckName(name);
        await HostAsync(clientId, openIfNeeded: false, cancellationToken);
        var state = await SessionProfiles.ReadAsync(SessionId, _page ?? throw NotFound(), _browser.ActionLimit, cancellationToken);
        _lifetime.Touch();
        return await GrainFactory.GetGrain<IClientProfilesGrain>(clientId).SaveAsync(name, state, cancellationToken);
    }

    /// <summary>
    /// Makes sure <paramref name="clientId"/>'s session is open here: restored from its checkpoint if it moved, opened if
    /// <paramref name="openIfNeeded"/> (a default session), or refused as ended, elsewhere or unknown.
    /// </summary>
    private async Task HostAsync(string clientId, bool openIfNeeded, CancellationToken cancellationToken)
    {
        await EndInProgressAsync();
        if (!IsOpen && !services.Local.AcceptingNewSessions && _checkpoints.Saved is { Exists: true } saved && saved.ClientId == clientId)
        {
            // A draining silo takes no moved session back (its activation may have outlived the move, or placement
            // chose it before it drained): this activation goes, the caller retries, and placement picks another silo.
            throw new SessionElsewhereException(SessionId);
        }

        var restoreEnded = IsOpen ? null : await RestoreAsync(clientId, cancellationToken);
        if (!IsOpen)
        {
            if (await _slot.RefusalAsync(clientId, restoreEnded, openIfNeeded) is { } refused)
            {
                throw refused;
            }

            await OpenCoreAsync(clientId, cancellationToken);
        }

        if (Owner != clientId)
        {
            throw NotFound();
        }
    }

    private async Task<ActionResult> ExecuteCoreAsync(string clientId, BrowserAction action, bool openIfNeeded, IActionProgress? progress, CancellationToken cancellationToken)
    {
        await HostAsync(clientId, openIfNeeded, cancellationToken);
        var handoff = await Control.WaitAsync(SessionId, _browser.ActionLimit, cancellationToken); // A person in control goes first (Live/).

        // The price of this call: one action, a task its steps and its first navigation. Held before it runs, charged
        // only when it answers (a failed or interrupted action costs its minutes, not an action).
        var (steps, price) = _account.Quote(action);
        await EnsureReservedAsync(_account.Accrued(Now) + price, cancellationToken);
        if (_ending is not null || _page is not { } page)
        {
            throw Closed(_ending ?? SessionEndReason.Completed);
        }

        _lifetime.Touch();
        SessionEndReason? endAfter = null;
        try
        {
            // A cancelled call ends the action within a second and is not charged (it throws before the charge).
            var result = await _browser.RunAsync(page, action, progress, cancellationToken);
            if (_ending is { } closedMeanwhile)
            {
                throw Closed(closedMeanwhile);
            }

            if (result.Extract is { } extract)
            {
                services.Metrics.Extracted(extract.Records.Count, extract.Completeness);
            }

            _account.Charge(steps, price);
            if (ChangesPage(action))
            {
                _checkpoints.Request();
            }

            return _mover.WithRestoredNote(result with { ChargedUsd = price, SessionCostUsd = _account.CostAt(Now), Handoff = handoff, PageUrl = page.Url });
        }
        catch (Exception ex) when (_ending is { } reason && ex is not OperationCanceledException { CancellationToken.IsCancellationRequested: false })
        {
            // Closed under the action (by the agent, an operator, a lifetime, the emergency switch or a drain).
            throw Closed(reason);
        }
        catch (AnchorException ex) when (ex.Code == ErrorCodes.BrowserError && page.IsGone)
        {
            // The browser died under the session: end it (settled, slot freed) instead of keeping a dead page open.
            // The engine relaunches Chromium for the next session.
            endAfter = SessionEndReason.Failed;
            throw new AnchorException(ErrorCodes.BrowserError, $"the browser of session '{SessionId}' stopped during {action.Name}; the session was closed. Create a new session (or call again to use a fresh default session).");
        }
        finally
        {
            _lifetime.Touch();
            if (endAfter is { } failed)
            {
                await EndOnceAsync(failed);
            }
        }
    }

    public Task<SessionInfo?> GetInfoAsync(string? clientId)
    {
        if (!IsOpen && _end is null)
        {
            DeactivateIfUnused();
        }

        return Task.FromResult(IsOpen && (clientId is null || clientId == Owner) ? Info() : null);
    }

    public async Task<SessionClose> CloseAsync(string? clientId, SessionEndReason reason)
    {
        if (!IsOpen && _end is null)
        {
            var parked = _checkpoints.Saved;
            _closeOnReceipt = clientId is not null;
            if (parked.Exists && _calls == 0 && (clientId is null || clientId == parked.ClientId) && await _mover.EndParkedAsync(reason) is { } closed)
            {
                return closed;
            }

            DeactivateIfUnused();
            return new SessionClose(false);
        }

        if (clientId is not null && clientId != Owner)
        {
            throw NotFound();
        }

        // A close already under way is awaited, and reports the charge itself.
        var ends = _end is null;
        if (ends)
        {
            _closeOnReceipt = clientId is not null;
        }

        await EndOnceAsync(reason);
        return ends ? new SessionClose(true, _account.CloseChargeUsd, _account.CloseChargeUsd + _account.ActionsUsd) : new SessionClose(true);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (IsOpen || _end is not null)
        {
            // Shutting down is a drain; any other deactivation of an open session loses its browser.
            await EndOnceAsync(reason.ReasonCode == DeactivationReasonCode.ShuttingDown ? SessionEndReason.Drained : SessionEndReason.Lost);
        }
    }

    /// <summary>
    /// Lets an end that is under way (a lifetime timer or a close, both interleaving) finish first: until it has
    /// released the lease, the registry would take the session for one whose silo died.
    /// </summary>
    private async Task EndInProgressAsync()
    {
        if (_end is { IsCompleted: false } ending)
        {
            await ending;
        }
    }

    /// <summary>
    /// Lets an activation that holds no session go. Never while a call is under way: a listing or a close interleaves
    /// with an open in progress (no page yet), and deactivating then would lose the session it is opening.
    /// </summary>
    private void DeactivateIfUnused()
    {
        if (!IsOpen && _end is null && !_browser.IsRunning && _calls == 0)
        {
            this.DeactivateOnIdle();
        }
    }

    private async Task OpenCoreAsync(string clientId, CancellationToken cancellationToken, string? storageState = null)
    {
        if (!services.Local.AcceptingNewSessions)
        {
            throw new AnchorException(ErrorCodes.ConcurrencyLimit, "this silo is draining for shutdown; retry and another silo will take the session.");
        }

        if (load.Refusal() is { } overloaded)
        {
            // Only a new session: restores (moves, checkpoints) take RestoreAsync and are never refused for load.
            services.Metrics.LoadRefused(overloaded.Resource);
            throw overloaded.Error;
        }

        (var lease, _page) = await _slot.OpenAsync(clientId, storageState, cancellationToken);
        _lifetime.Begin(lease.ExpiresAt);
        _checkpoints.LossRestores = 0;
        Hosted(clientId);
        services.Metrics.SessionOpened();
        LogOpened(logger, SessionId, clientId);
        Record(TimelineEvents.Opened, "opened", $"on {SiloName}");
        _checkpoints.Request(); // A session lost before its first action is restored too (as a blank page).
    }

    /// <summary>Holds the session open here: counted on this silo, its lifetime watched.</summary>
    private void Hosted(string clientId)
    {
        _ending = null;
        _endedAt = null;
        _end = null;
        _closeOnReceipt = false;
        services.Local.Add(SessionId, clientId);
        _lifetime.Watch(this, CheckLifetimeAsync);
    }

    private async Task CheckLifetimeAsync(CancellationToken cancellationToken)
    {
        if (IsOpen && _end is null
            && await _lifetime.DueEndAsync(_browser.IsRunning, _calls > 0, (now, ct) => EnsureReservedAsync(_account.Accrued(now), ct), cancellationToken) is { } reason)
        {
            await EndOnceAsync(reason);
        }
    }

    private async Task EnsureReservedAsync(decimal neededUsd, CancellationToken cancellationToken)
    {
        if (await _account.EnsureReservedAsync(neededUsd, cancellationToken))
        {
            _checkpoints.Request(); // What is reserved must survive a move: a restored session settles against it.
        }
    }

    /// <summary>Ends the session once, however many closes race (each awaits the same end).</summary>
    private Task EndOnceAsync(SessionEndReason reason) => _end ??= EndAsync(reason);

    /// <summary>
    /// Interrupts a running action (cancels it and closes the context, which fails every Playwright call on it at
    /// once), then settles the cost and releases the lease.
    /// </summary>
    private async Task EndAsync(SessionEndReason reason)
    {
        _ending = reason;
        _endedAt = Now;
        var page = _page!;
        _lifetime.Stop();
        _browser.Interrupt();
        var now = Now;
        // The context may already be gone with its browser; the slot and the money are settled regardless.
        services.Metrics.Cleanup(success: await _browser.CloseAsync(page));
        await _browser.UnwoundAsync();
        _page = null;
        services.Local.Remove(SessionId);
        await SettleAndReleaseAsync(reason, now, hostedHere: true);
    }

    /// <summary>Settles the session and releases its lease (<see cref="SessionSlot"/>), forgets its checkpoint and lets the activation go.</summary>
    private async Task<decimal> SettleAndReleaseAsync(SessionEndReason reason, DateTimeOffset now, bool hostedHere)
    {
        var cost = await _slot.SettleAndReleaseAsync(reason, now, hostedHere);
        RecordClosed(reason);
        await _checkpoints.ForgetAsync();
        this.DeactivateOnIdle();
        return cost;
    }

    public async Task<bool> SuspendAsync()
    {
        // Queued behind any running action (this call does not interleave), so the checkpoint sees where it ended.
        if (_page is not { } page || _end is not null || await _mover.ParkAsync(page) is not { } cost)
        {
            return false; // Not here, or not checkpointed: it stays open, and the drain closes it as drained, settled.
        }

        _lifetime.Stop();
        _page = null;
        services.Local.Remove(SessionId);
        await _mover.LeaveAsync(page, cost);
        this.DeactivateOnIdle();
        return true;
    }

    public async Task DiscardCheckpointAsync()
    {
        if (!IsOpen && _end is null && _calls == 0)
        {
            await _checkpoints.ForgetAsync();
            DeactivateIfUnused();
        }
    }

    /// <summary>
    /// Rebuilds the session from its checkpoint when this activation has none open and the registry hands it the lease
    /// (<see cref="SessionMover.RestoreAsync"/>). Answers how the session ended when its checkpoint belongs to a session
    /// that is over, null otherwise.
    /// </summary>
    private async Task<EndedSession?> RestoreAsync(string clientId, CancellationToken cancellationToken)
    {
        var outcome = await _mover.RestoreAsync(clientId, cancellationToken);
        if (outcome.Page is not { } page)
        {
            return outcome.Ended;
        }

        _page = page;
        Hosted(clientId);
        _checkpoints.Request();
        return null;
    }

    /// <summary>Whether an action may change what a checkpoint keeps (reading the page does not).</summary>
    private static bool ChangesPage(BrowserAction action) => Tools.BrowserToolTable.ChangesPage(action);

    private SessionInfo Info() =>
        new(SessionId, Owner, SiloName, _account.OpenedAt, _lifetime.ExpiresAt, _lifetime.LastActivity, _account.Actions,
            _account.CostAt(Now), _page?.Url, _page?.PageCount ?? 0, _browser.RunningAction);

    private AnchorException NotFound() => SessionErrors.NotFound(SessionId);

    /// <summary>Puts a session event on the session's timeline (queued; never fails the session).</summary>
    private void Record(string name, string outcome, string? detail = null, decimal costUsd = 0m) =>
        _ = services.Timeline.AppendAsync(SessionId, TimelineEntry.Event(Now, name, Owner, outcome, detail, costUsd));

    /// <summary>
    /// The closed event, with the close's charge unless the receipt of the call that closed it carries it (its client's
    /// browser_session_close or browser_close, whose timeline entry has that cost): so the costs on a closed session's
    /// timeline add up to what the ledger settled for it.
    /// </summary>
    private void RecordClosed(SessionEndReason reason) =>
        Record(TimelineEvents.Closed, Telemetry.AnchorMetrics.ReasonLabel(reason), $"closed ({Telemetry.AnchorMetrics.ReasonLabel(reason)})", _closeOnReceipt ? 0m : _account.CloseChargeUsd);

    private AnchorException Closed(SessionEndReason reason) => SessionErrors.Closed(SessionId, Owner, reason, _endedAt ?? Now);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} opened for {ClientId}")]
    private static partial void LogOpened(ILogger logger, string sessionId, string clientId);
}
