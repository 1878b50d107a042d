using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Profiles;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Profiles;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>
/// One browser session. Its browser context lives in this activation's memory on the silo where it activated; a
/// checkpoint (tabs, cookies, localStorage, viewport, lifetime and money) is kept in grain storage after actions
/// that may change the page, so a session whose silo drains or dies is rebuilt on another silo at its next call and
/// says so (<see cref="ActionResult.Restored"/>). Owns its lifetime (idle and maximum duration), its cost (reserve
/// before spending, settle once at the end, wherever it ends) and its registry lease.
/// Closing never queues behind a running action: <see cref="CloseAsync"/> interleaves, cancels the action, closes
/// the browser context (which ends every Playwright call on it) and settles. An activation that holds no open
/// session (a refused create, an unknown id) deactivates as soon as its call ends; an open one is kept alive by
/// its lifetime timer.
/// </summary>
[global::Orleans.GrainDirectory.GrainDirectory(Hosting.OrleansHostingExtensions.SessionDirectoryName)]
[SessionPlacement] // The browser opens on the silo whose front received the call, unless that silo drains.
public sealed partial class BrowserSessionGrain(
    BrowserEngine engine,
    UrlPolicy urls,
    ClientPolicies policies,
    ISessionBudget budget,
    LocalSessions local,
    AnchorMetrics metrics,
    IOptionsMonitor<SessionsOptions> sessionOptions,
    IOptionsMonitor<PricingOptions> pricingOptions,
    IOptionsMonitor<BrowserOptions> browserOptions,
    [PersistentState("session-checkpoint", Hosting.OrleansHostingExtensions.StorageName)] IPersistentState<SessionCheckpoint> checkpoint,
    IDataProtectionProvider protection,
    IOptions<Hosting.AnchorHostingOptions> hosting,
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<BrowserSessionGrain> logger) : Grain, IBrowserSessionGrain
{
    /// <summary>
    /// At most one checkpoint starts per this interval: a burst of actions costs one write, after its last action
    /// (a silo killed within about this long of an action may restore the page from before it).
    /// </summary>
    public static readonly TimeSpan CheckpointSpacing = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many times a session is rebuilt after losing its silo. A hostile page that took one silo down would take each
    /// next one down when its checkpoint replays it; the session lost once more is ended instead of restored.
    /// </summary>
    public const int MaxLossRestores = 2;

    /// <summary>How long a close waits for an interrupted action to unwind before it settles regardless.</summary>
    private static readonly TimeSpan UnwindLimit = TimeSpan.FromSeconds(2);

    private BrowserPage? _page;
    private string _clientId = "";
    private DateTimeOffset _openedAt;
    private DateTimeOffset _expiresAt;
    private DateTimeOffset _lastActivity;
    private int _actions;
    private decimal _actionsUsd;
    private decimal _closeChargeUsd;
    private decimal _reservedUsd;
    private IGrainTimer? _lifetimeTimer;
    private CancellationTokenSource? _interrupt;
    private Task? _running;
    private int _calls; // Open, execute and save-profile calls in progress (they do not interleave with each other).
    private string? _runningAction;
    private SessionEndReason? _ending;
    private DateTimeOffset? _endedAt;
    private Task? _end;
    private bool _checkpointDue;
    private Task _checkpointing = Task.CompletedTask;
    private DateTimeOffset _lastCheckpointAt = DateTimeOffset.MinValue;
    private bool _lastCheckpointWritten;
    private IDataProtector? _checkpointProtector;
    private CancellationTokenSource? _checkpointWait;
    private SessionRestored? _restored;
    private int _lossRestores;

    private string SessionId => this.GetPrimaryKeyString();

    private string SiloName => silo.SiloAddress.ToParsableString();

    private ISessionRegistryGrain Registry => GrainFactory.GetGrain<ISessionRegistryGrain>(0);

    private bool IsOpen => _page is not null;

    public Task<SessionInfo> OpenAsync(string clientId, string? profile = null, CancellationToken cancellationToken = default) =>
        CountedAsync(() => OpenOrInfoAsync(clientId, profile, cancellationToken));

    public Task<ProfileInfo> SaveProfileAsync(string clientId, string name, CancellationToken cancellationToken = default) =>
        CountedAsync(() => SaveProfileCoreAsync(clientId, name, cancellationToken));

    public Task<ActionResult> ExecuteAsync(string clientId, BrowserAction action, bool openIfNeeded = false, CancellationToken cancellationToken = default) =>
        CountedAsync(() => ExecuteCoreAsync(clientId, action, openIfNeeded, cancellationToken));

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
            return _clientId == clientId ? Info() : throw NotFound();
        }

        if (await Registry.GetEndedAsync(SessionId, clientId, SiloName) is { } ended)
        {
            throw ended.LiveElsewhere ? new SessionElsewhereException(SessionId) : Expired(ended);
        }

        await OpenCoreAsync(clientId, cancellationToken, await LoadProfileAsync(clientId, profile));
        return Info();
    }

    private async Task<ProfileInfo> SaveProfileCoreAsync(string clientId, string name, CancellationToken cancellationToken)
    {
        ClientProfilesGrain.CheckName(name);
        await EndInProgressAsync();
        var restoreEnded = IsOpen ? null : await RestoreAsync(clientId, cancellationToken);
        if (_page is null)
        {
            var ended = restoreEnded ?? await Registry.GetEndedAsync(SessionId, clientId, SiloName);
            throw ended is { LiveElsewhere: true } ? new SessionElsewhereException(SessionId) : ended is not null ? Expired(ended) : NotFound();
        }

        if (_clientId != clientId || _page is not { } page)
        {
            throw NotFound();
        }

        string state;
        try
        {
            state = await page.StorageStateAsync(TimeSpan.FromSeconds(sessionOptions.CurrentValue.ActionTimeoutSeconds), cancellationToken);
        }
        catch (Microsoft.Playwright.PlaywrightException)
        {
            throw new AnchorException(ErrorCodes.BrowserError, $"browser_error: could not read the cookies and storage of session '{SessionId}'.");
        }

        _lastActivity = time.GetUtcNow();
        return await GrainFactory.GetGrain<IClientProfilesGrain>(clientId).SaveAsync(name, state, cancellationToken);
    }

    /// <summary>The storage state of the client's saved <paramref name="profile"/> (null for none); unknown names are refused before any slot is taken.</summary>
    private async Task<string?> LoadProfileAsync(string clientId, string? profile)
    {
        if (profile is null)
        {
            return null;
        }

        ClientProfilesGrain.CheckName(profile);
        return await GrainFactory.GetGrain<IClientProfilesGrain>(clientId).LoadAsync(profile)
            ?? throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: you have no saved profile '{profile}' (browser_profile_list shows yours).");
    }

    private async Task<ActionResult> ExecuteCoreAsync(string clientId, BrowserAction action, bool openIfNeeded, CancellationToken cancellationToken)
    {
        await EndInProgressAsync();
        var restoreEnded = IsOpen ? null : await RestoreAsync(clientId, cancellationToken);
        if (!IsOpen)
        {
            var ended = restoreEnded ?? await Registry.GetEndedAsync(SessionId, clientId, SiloName);
            if (ended is { LiveElsewhere: true })
            {
                throw new SessionElsewhereException(SessionId);
            }

            // A default session whose browser was lost says so once (session_expired); the next call opens a fresh one.
            if (!openIfNeeded || ended is { JustLost: true })
            {
                throw ended is not null ? Expired(ended) : NotFound();
            }

            await OpenCoreAsync(clientId, cancellationToken);
        }

        if (_clientId != clientId)
        {
            throw NotFound();
        }

        // The price of this call: one action, a task its steps and its first navigation. Held before it runs, charged
        // only when it answers (a failed or interrupted action costs its minutes, not an action).
        var steps = action is RunTaskAction task ? task.Steps.Count + 1 : 1;
        var price = steps * pricingOptions.CurrentValue.ActionUsd;
        await EnsureReservedAsync(Accrued(time.GetUtcNow()) + price, cancellationToken);
        if (_ending is not null || _page is not { } page)
        {
            throw Closed(_ending ?? SessionEndReason.Completed);
        }

        _lastActivity = time.GetUtcNow();
        using var interrupt = new CancellationTokenSource();
        var running = new TaskCompletionSource();
        _interrupt = interrupt;
        _running = running.Task;
        _runningAction = action.Name;
        SessionEndReason? endAfter = null;
        try
        {
            using var deadline = new ActionDeadline(TimeSpan.FromSeconds(sessionOptions.CurrentValue.ActionTimeoutSeconds), time, interrupt.Token, cancellationToken);
            var result = await page.RunAsync(action, deadline);
            if (_ending is { } closedMeanwhile)
            {
                throw Closed(closedMeanwhile);
            }

            if (result.Extract is { } extract)
            {
                metrics.Extracted(extract.Records.Count, extract.Completeness);
            }

            _actions += steps;
            _actionsUsd += price;
            if (ChangesPage(action))
            {
                RequestCheckpoint();
            }

            var restored = _restored;
            _restored = null;
            return result with
            {
                Text = restored is null ? result.Text : $"{RestoredNote(restored)}\n\n{result.Text}",
                ChargedUsd = price,
                SessionCostUsd = CostSoFar(),
                Restored = restored,
            };
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
            throw new AnchorException(ErrorCodes.BrowserError, $"browser_error: the browser of session '{SessionId}' stopped during {action.Name}; the session was closed. Create a new session (or call again to use a fresh default session).");
        }
        finally
        {
            _interrupt = null;
            _running = null;
            _runningAction = null;
            running.SetResult();
            _lastActivity = time.GetUtcNow();
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

        return Task.FromResult(IsOpen && (clientId is null || clientId == _clientId) ? Info() : null);
    }

    public async Task<SessionClose> CloseAsync(string? clientId, SessionEndReason reason)
    {
        if (!IsOpen)
        {
            if (_end is { } ending)
            {
                if (clientId is not null && clientId != _clientId)
                {
                    throw NotFound();
                }

                await ending; // Another close is under way: answer when it is done (that close reports the charge).
                return new SessionClose(true);
            }

            if (checkpoint.State.Exists && _calls == 0 && (clientId is null || clientId == checkpoint.State.ClientId))
            {
                return await EndParkedAsync(reason);
            }

            DeactivateIfUnused();
            return new SessionClose(false);
        }

        if (clientId is not null && clientId != _clientId)
        {
            throw NotFound();
        }

        var ends = _end is null;
        await EndOnceAsync(reason);
        return ends ? new SessionClose(true, _closeChargeUsd, _closeChargeUsd + _actionsUsd) : new SessionClose(true);
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
        if (!IsOpen && _end is null && _running is null && _calls == 0)
        {
            this.DeactivateOnIdle();
        }
    }

    private async Task OpenCoreAsync(string clientId, CancellationToken cancellationToken, string? storageState = null)
    {
        if (!local.AcceptingNewSessions)
        {
            throw new AnchorException(ErrorCodes.ConcurrencyLimit, "concurrency_limit: this silo is draining for shutdown; retry and another silo will take the session.");
        }

        var policy = policies.For(clientId);
        var lease = await Registry.AcquireAsync(SessionId, clientId, silo.SiloAddress.ToParsableString(), policy.MaxSessions, cancellationToken);
        if (lease.Queued is { } queued)
        {
            // No slot free: the front that holds the agent's request waits in the registry's queue and calls again.
            throw new SessionQueuedException(SessionId, queued);
        }

        if (!lease.Granted)
        {
            metrics.Refused(lease.RefusalCode!);
            throw new AnchorException(lease.RefusalCode!, lease.RefusalMessage!, lease.RetryAfter);
        }

        var openedAt = lease.Lease!.AcquiredAt;
        var reserve = pricingOptions.CurrentValue.SessionReserveUsd;
        try
        {
            await budget.ReserveAsync(SessionBilling.Id(SessionId, openedAt), clientId, openedAt, reserve, cancellationToken);
            var o = sessionOptions.CurrentValue;
            _page = await BrowserPage.OpenAsync(
                engine, urls, policy.AllowedHosts, browserOptions.CurrentValue, TimeSpan.FromSeconds(o.ActionTimeoutSeconds), time, cancellationToken, storageState);
        }
        catch (Exception ex)
        {
            // No lease or reservation outlives a failed open, whatever failed (a refusal, storage, a cancelled request).
            await AbandonOpenAsync(clientId, openedAt, ex);
            throw;
        }

        _clientId = clientId;
        _openedAt = openedAt;
        _expiresAt = lease.Lease.ExpiresAt;
        _lastActivity = time.GetUtcNow();
        _actions = 0;
        _actionsUsd = 0;
        _closeChargeUsd = 0;
        _reservedUsd = reserve;
        _lossRestores = 0;
        _ending = null;
        _endedAt = null;
        _end = null;
        local.Add(SessionId, clientId);
        metrics.SessionOpened();
        StartLifetimeTimer();
        LogOpened(logger, SessionId, clientId);
        RequestCheckpoint(); // A session lost before its first action is restored too (as a blank page).
    }

    private void StartLifetimeTimer()
    {
        var sessions = sessionOptions.CurrentValue;
        var tick = TimeSpan.FromSeconds(Math.Clamp(Math.Min(sessions.IdleTimeoutSeconds, sessions.MaxDurationSeconds) / 4.0, 0.25, 5));
        // Interleaved, so lifetimes are enforced while an action runs: a session past its maximum duration is closed
        // (interrupting the action) rather than waiting for the action to end.
        _lifetimeTimer = this.RegisterGrainTimer(CheckLifetimeAsync, new GrainTimerCreationOptions(tick, tick) { KeepAlive = true, Interleave = true });
    }

    /// <summary>Releases what a failed open took: the reservation (settled at zero, if it landed) and the lease.</summary>
    private async Task AbandonOpenAsync(string clientId, DateTimeOffset openedAt, Exception cause)
    {
        LogOpenFailed(logger, SessionId, cause.GetType().Name);
        try
        {
            await budget.SettleAsync(SessionBilling.Id(SessionId, openedAt), clientId, openedAt, 0m);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSettleDeferred(logger, SessionId, ex.GetType().Name);
        }

        try
        {
            await Registry.ReleaseAsync(SessionId, SessionEndReason.Failed);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSettleDeferred(logger, SessionId, ex.GetType().Name);
        }
    }

    private async Task CheckLifetimeAsync(CancellationToken cancellationToken)
    {
        if (!IsOpen || _end is not null)
        {
            return;
        }

        var now = time.GetUtcNow();
        var idle = TimeSpan.FromSeconds(sessionOptions.CurrentValue.IdleTimeoutSeconds);
        if (now >= _expiresAt)
        {
            await EndOnceAsync(SessionEndReason.TimedOut);
        }
        else if (_running is null && _calls == 0 && now - _lastActivity >= idle) // A call in progress (even one still reserving) is not idleness.
        {
            await EndOnceAsync(SessionEndReason.Idle);
        }
        else if (_running is null)
        {
            try
            {
                // Open minutes cost money too: hold enough for them, or end the session when the budget is spent.
                await EnsureReservedAsync(Accrued(now), cancellationToken);
            }
            catch (AnchorException ex) when (ex.Code == ErrorCodes.BudgetExceeded)
            {
                await EndOnceAsync(SessionEndReason.Budget);
            }
        }
    }

    /// <summary>Tops up the reservation in <c>SessionReserveUsd</c> steps until it covers <paramref name="needed"/>.</summary>
    private async Task EnsureReservedAsync(decimal needed, CancellationToken cancellationToken)
    {
        if (needed <= _reservedUsd)
        {
            return;
        }

        var step = Math.Max(pricingOptions.CurrentValue.SessionReserveUsd, 0.01m);
        var topUp = Math.Ceiling((needed - _reservedUsd) / step) * step;
        await budget.ReserveAsync(SessionBilling.Id(SessionId, _openedAt), _clientId, _openedAt, topUp, cancellationToken);
        _reservedUsd += topUp;
        RequestCheckpoint(); // What is reserved must survive a move: a restored session settles against it.
    }

    /// <summary>What the session has run up by <paramref name="at"/>: its open minutes and the actions charged so far.</summary>
    private decimal Accrued(DateTimeOffset at)
    {
        var minutes = (decimal)Math.Max(0, (at - _openedAt).TotalMinutes);
        return Math.Round((minutes * pricingOptions.CurrentValue.SessionMinuteUsd) + _actionsUsd, 6);
    }

    /// <summary>What the session would settle at now (never more than it holds reserved).</summary>
    private decimal CostSoFar() => Math.Min(Accrued(time.GetUtcNow()), _reservedUsd);

    /// <summary>Ends the session once, however many closes race (each awaits the same end).</summary>
    private Task EndOnceAsync(SessionEndReason reason) => _end ??= EndAsync(reason);

    /// <summary>
    /// Interrupts a running action (cancels it and closes the context, which fails every Playwright call on it at
    /// once), then settles the cost and releases the lease.
    /// </summary>
    private async Task EndAsync(SessionEndReason reason)
    {
        _ending = reason;
        _endedAt = time.GetUtcNow();
        var page = _page!;
        _lifetimeTimer?.Dispose();
        _lifetimeTimer = null;
        _interrupt?.Cancel();
        var now = time.GetUtcNow();
        try
        {
            await page.DisposeAsync();
            metrics.Cleanup(success: true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The context may already be gone with its browser; the slot and the money are settled regardless.
            metrics.Cleanup(success: false);
            LogContextCloseFailed(logger, SessionId, ex.GetType().Name);
        }

        if (_running is { } running)
        {
            try
            {
                await running.WaitAsync(UnwindLimit, time);
            }
            catch (TimeoutException)
            {
                LogUnwindSlow(logger, SessionId);
            }
        }

        _page = null;
        local.Remove(SessionId);
        await SettleAndReleaseAsync(reason, now, hostedHere: true);
    }

    /// <summary>
    /// Settles the session at what it ran up by <paramref name="now"/> (never more than it holds reserved), releases its
    /// lease and forgets its checkpoint. <paramref name="hostedHere"/>: its browser was open on this silo.
    /// </summary>
    private async Task<decimal> SettleAndReleaseAsync(SessionEndReason reason, DateTimeOffset now, bool hostedHere)
    {
        var cost = Math.Min(Accrued(now), _reservedUsd);
        // The actions were on the receipts of their calls; the close's receipt carries the rest (the minutes).
        _closeChargeUsd = Math.Max(0, cost - _actionsUsd);
        if (hostedHere)
        {
            metrics.SessionClosed(reason, now - _openedAt);
        }
        else
        {
            metrics.SessionEnded(reason, now - _openedAt);
        }

        try
        {
            await budget.SettleAsync(SessionBilling.Id(SessionId, _openedAt), _clientId, _openedAt, cost);
            // Through a failover of the registry too (idempotent); only a lasting failure is left to the sweep.
            await Resilience.TransientClusterErrors.RetryAsync(_ => Registry.ReleaseAsync(SessionId, reason), LedgerSessionBudget.SettleRetryLimit, time);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Left to the registry: its sweep ends the lease and settles; settlement happens exactly once either way.
            LogSettleDeferred(logger, SessionId, ex.GetType().Name);
        }

        LogEnded(logger, SessionId, _clientId, AnchorMetrics.ReasonLabel(reason), cost);
        await ForgetCheckpointAsync();
        this.DeactivateOnIdle();
        return cost;
    }

    public async Task<bool> SuspendAsync()
    {
        if (_page is not { } page || _end is not null)
        {
            return false;
        }

        // Queued behind any running action (this call does not interleave), so the checkpoint sees where it ended.
        // A background write waiting out its spacing is hurried and is the last checkpoint; otherwise write one here.
        _checkpointDue = true;
        HurryCheckpoints();
        await AwaitCheckpointsAsync();
        if ((_checkpointDue || !_lastCheckpointWritten) && !await WriteCheckpointAsync(page))
        {
            return false; // Stays open here: the drain closes it as drained, settled, as before.
        }

        var cost = CostSoFar();
        try
        {
            await Registry.ParkAsync(SessionId, cost);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSuspendFailed(logger, SessionId, ex.GetType().Name);
            return false;
        }

        _lifetimeTimer?.Dispose();
        _lifetimeTimer = null;
        _page = null;
        local.Remove(SessionId);
        metrics.SessionMoved("suspended");
        try
        {
            await page.DisposeAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogContextCloseFailed(logger, SessionId, ex.GetType().Name);
        }

        LogSuspended(logger, SessionId, _clientId, cost);
        this.DeactivateOnIdle();
        return true;
    }

    public async Task DiscardCheckpointAsync()
    {
        if (!IsOpen && _end is null && _calls == 0)
        {
            await ForgetCheckpointAsync();
            DeactivateIfUnused();
        }
    }

    /// <summary>
    /// Rebuilds the session from its checkpoint when this activation has none open and the registry hands it the lease
    /// (its silo drained, or died and <c>Sessions:RestoreOnLoss</c> is on). Answers how the session ended when the
    /// checkpoint belongs to a session that is over (the checkpoint is then forgotten), null otherwise.
    /// </summary>
    private async Task<EndedSession?> RestoreAsync(string clientId, CancellationToken cancellationToken)
    {
        var saved = checkpoint.State;
        if (!saved.Exists || saved.ClientId != clientId)
        {
            return null;
        }

        var resume = await Registry.ResumeAsync(SessionId, clientId, SiloName);
        if (resume.Lease is not { } lease)
        {
            if (resume.Ended is { LiveElsewhere: true })
            {
                throw new SessionElsewhereException(SessionId);
            }

            await ForgetCheckpointAsync();
            return resume.Ended;
        }

        var how = lease.ParkedCostUsd is null ? "lost" : "drained";
        if (how == "lost" && saved.LossRestores >= MaxLossRestores)
        {
            // Its page may be what takes silos down: rebuilding it would replay that on this silo.
            metrics.SessionMoved("restore_refused");
            LogRestoreRefused(logger, SessionId, clientId, saved.LossRestores);
            LoadFrom(saved, lease);
            await SettleAndReleaseAsync(SessionEndReason.Failed, time.GetUtcNow(), hostedHere: false);
            throw new AnchorException(ErrorCodes.BrowserError, $"browser_error: session '{SessionId}' lost its silo again after being restored {saved.LossRestores} times; it is not restored again (a page that takes a silo down would take the next one down too) and was closed. Create a new session.");
        }

        var o = sessionOptions.CurrentValue;
        var (storageState, unreadable) = Unprotect(saved.StorageState);
        var (tabs, tabsUnreadable) = ReadTabs(saved);
        var limit = TimeSpan.FromSeconds(o.ActionTimeoutSeconds);
        BrowserPage page;
        IReadOnlyList<string> problems;
        try
        {
            page = await BrowserPage.OpenAsync(engine, urls, policies.For(clientId).AllowedHosts, browserOptions.CurrentValue, limit, time, cancellationToken, storageState);
            using var deadline = new ActionDeadline(limit, time, CancellationToken.None, cancellationToken);
            problems = await page.RestoreAsync(new PageCheckpoint(tabs, saved.CurrentTab, saved.ViewportWidth, saved.ViewportHeight, storageState), deadline);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // No browser to restore into: the session ends here, settled once at what it had run up.
            metrics.SessionMoved("restore_failed");
            LogRestoreFailed(logger, SessionId, ex.GetType().Name);
            LoadFrom(saved, lease);
            await SettleAndReleaseAsync(SessionEndReason.Failed, time.GetUtcNow(), hostedHere: false);
            throw new AnchorException(ErrorCodes.BrowserError, $"browser_error: session '{SessionId}' moved to another silo ({how}) but its browser could not be rebuilt there; the session was closed. Create a new session.");
        }

        LoadFrom(saved, lease);
        _lossRestores = saved.LossRestores + (how == "lost" ? 1 : 0);
        _page = page;
        _ending = null;
        _endedAt = null;
        _end = null;
        _lastActivity = time.GetUtcNow();
        local.Add(SessionId, clientId);
        metrics.SessionMoved("restored");
        var notRestored = saved.StorageOmitted ? [.. problems, $"cookies and storage were not kept: they exceeded Sessions:CheckpointMaxBytes ({o.CheckpointMaxBytes} bytes)"]
            : unreadable ? [.. problems, "cookies and storage could not be decrypted (the Data Protection key ring changed) and were not restored"]
            : problems;
        notRestored = tabsUnreadable ? [.. notRestored, "the tabs' URLs could not be decrypted (the Data Protection key ring changed); one blank tab was opened"] : notRestored;
        _restored = new SessionRestored(how, saved.TakenAt, tabs.Count, notRestored);
        StartLifetimeTimer();
        LogRestored(logger, SessionId, clientId, how, saved.TakenAt);
        RequestCheckpoint();
        return null;
    }

    /// <summary>Cookies and storage are kept encrypted at rest (Data Protection, the key ring every silo shares).</summary>
    private IDataProtector CheckpointProtector => _checkpointProtector ??= protection.CreateProtector("Anchor.Orleans.SessionCheckpoints.v1", SessionId);

    /// <summary>Decrypts a protected part of the checkpoint; unreadable when the key ring no longer has its key.</summary>
    private (string? Plain, bool Unreadable) Unprotect(string? protectedText)
    {
        if (protectedText is null)
        {
            return (null, false);
        }

        try
        {
            return (CheckpointProtector.Unprotect(protectedText), false);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return (null, true);
        }
    }

    /// <summary>The checkpoint's tab URLs: encrypted ones, or the plain list of a checkpoint written before tabs were encrypted.</summary>
    private (IReadOnlyList<string> Tabs, bool Unreadable) ReadTabs(SessionCheckpoint saved)
    {
        if (saved.ProtectedTabs is null)
        {
            return (saved.Tabs, false);
        }

        var (json, unreadable) = Unprotect(saved.ProtectedTabs);
        return json is null ? ([], unreadable) : (System.Text.Json.JsonSerializer.Deserialize<List<string>>(json) ?? [], false);
    }

    private void LoadFrom(SessionCheckpoint saved, SessionLease lease)
    {
        _clientId = saved.ClientId;
        _openedAt = lease.AcquiredAt;
        _expiresAt = lease.ExpiresAt;
        _actions = saved.Actions;
        _actionsUsd = saved.ActionsUsd;
        _reservedUsd = saved.ReservedUsd;
        _closeChargeUsd = 0;
    }

    /// <summary>Ends a parked session (closed, or timed out, while no silo held its browser): settles it at its checkpoint's figures.</summary>
    private async Task<SessionClose> EndParkedAsync(SessionEndReason reason)
    {
        var saved = checkpoint.State;
        var resume = await Registry.ResumeAsync(SessionId, saved.ClientId, SiloName);
        if (resume.Lease is not { } lease)
        {
            if (resume.Ended is not { LiveElsewhere: true })
            {
                await ForgetCheckpointAsync();
            }

            DeactivateIfUnused();
            return new SessionClose(false);
        }

        LoadFrom(saved, lease);
        var cost = await SettleAndReleaseAsync(reason, time.GetUtcNow(), hostedHere: false);
        return new SessionClose(true, _closeChargeUsd, cost);
    }

    /// <summary>Whether an action may change what a checkpoint keeps (reading the page does not).</summary>
    private static bool ChangesPage(BrowserAction action) => Tools.BrowserToolTable.ChangesPage(action);

    /// <summary>
    /// Asks for a checkpoint without waiting for it: one write runs at a time in the background (on this activation),
    /// at most one per <see cref="CheckpointSpacing"/>, and requests that arrive meanwhile are folded into the next
    /// write. Only with Redis grain storage.
    /// </summary>
    private void RequestCheckpoint()
    {
        if (!sessionOptions.CurrentValue.Checkpoints || hosting.Value.Storage.Provider != Hosting.StorageProvider.Redis)
        {
            return; // Off, or in-memory storage, which dies with the process: a checkpoint there could never be restored.
        }

        _checkpointDue = true;
        if (_checkpointing.IsCompleted)
        {
            _checkpointing = CheckpointLoopAsync();
        }
    }

    private async Task CheckpointLoopAsync()
    {
        await Task.Yield(); // After the call that asked has answered.
        while (_checkpointDue && _page is { } page && _end is null)
        {
            var wait = _lastCheckpointAt + CheckpointSpacing - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                using var waiting = new CancellationTokenSource();
                _checkpointWait = waiting;
                try
                {
                    await Task.Delay(wait, time, waiting.Token);
                }
                catch (OperationCanceledException)
                {
                    // Hurried: a drain wants the checkpoint now, or the session ends.
                }
                finally
                {
                    _checkpointWait = null;
                }

                continue;
            }

            _lastCheckpointAt = time.GetUtcNow();
            await WriteCheckpointAsync(page);
        }
    }

    /// <summary>Ends a spacing wait at once (a drain or an end must not wait out <see cref="CheckpointSpacing"/>).</summary>
    private void HurryCheckpoints()
    {
        _lastCheckpointAt = DateTimeOffset.MinValue;
        _checkpointWait?.Cancel();
    }

    private async Task AwaitCheckpointsAsync()
    {
        try
        {
            await _checkpointing;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCheckpointFailed(logger, SessionId, ex.GetType().Name);
        }
    }

    /// <summary>Reads the browser's state and stores the checkpoint; false (logged, counted) when either fails.</summary>
    private async Task<bool> WriteCheckpointAsync(BrowserPage page)
    {
        _checkpointDue = false;
        _lastCheckpointWritten = false;
        var started = time.GetTimestamp();
        var bytes = 0;
        try
        {
            var taken = await page.CheckpointAsync(TimeSpan.FromSeconds(Math.Min(10, sessionOptions.CurrentValue.ActionTimeoutSeconds)), CancellationToken.None);
            if (_page != page || _end is not null)
            {
                return false; // Ended (or moved) meanwhile: nothing to keep.
            }

            var storage = taken.StorageState;
            bytes = storage is null ? 0 : System.Text.Encoding.UTF8.GetByteCount(storage);
            var omitted = bytes > sessionOptions.CurrentValue.CheckpointMaxBytes;
            checkpoint.State = new SessionCheckpoint
            {
                ClientId = _clientId,
                OpenedAt = _openedAt,
                ExpiresAt = _expiresAt,
                Actions = _actions,
                ActionsUsd = _actionsUsd,
                ReservedUsd = _reservedUsd,
                ProtectedTabs = CheckpointProtector.Protect(System.Text.Json.JsonSerializer.Serialize(taken.Tabs)),
                CurrentTab = taken.CurrentTab,
                ViewportWidth = taken.ViewportWidth,
                ViewportHeight = taken.ViewportHeight,
                StorageState = omitted || storage is null ? null : CheckpointProtector.Protect(storage),
                StorageOmitted = omitted,
                TakenAt = time.GetUtcNow(),
                LossRestores = _lossRestores,
            };
            await checkpoint.WriteStateAsync();
            metrics.Checkpoint(true, time.GetElapsedTime(started), omitted ? 0 : bytes);
            _lastCheckpointWritten = true;
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (_page != page || _end is not null)
            {
                return false; // The context closed under the read: the session ended or moved, nothing is lost.
            }

            metrics.Checkpoint(false, time.GetElapsedTime(started), bytes);
            LogCheckpointFailed(logger, SessionId, ex.GetType().Name);
            return false;
        }
    }

    /// <summary>Removes the checkpoint once the session is over; a failure leaves it for the next activation to find ended and remove.</summary>
    private async Task ForgetCheckpointAsync()
    {
        HurryCheckpoints();
        await AwaitCheckpointsAsync();
        if (!checkpoint.State.Exists && !checkpoint.RecordExists)
        {
            return;
        }

        try
        {
            await checkpoint.ClearStateAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCheckpointFailed(logger, SessionId, ex.GetType().Name);
        }
    }

    private static string RestoredNote(SessionRestored restored)
    {
        var why = restored.Reason == "drained" ? "its silo was shut down" : "its silo was lost";
        var text = $"### Session restored\nThis session moved to another silo ({why}) and was rebuilt from its checkpoint of {restored.CheckpointAt:O}: "
            + $"{restored.Tabs} tab(s) reopened at their URLs, cookies and localStorage restored. Form input that was not submitted and in-page script state were not kept. "
            + "Element refs from before are no longer valid: take a new browser_snapshot.";
        return restored.NotRestored.Count == 0 ? text : text + "\nNot restored:\n" + string.Join('\n', restored.NotRestored.Select(p => $"- {p}"));
    }

    private SessionInfo Info() =>
        new(SessionId, _clientId, silo.SiloAddress.ToParsableString(), _openedAt, _expiresAt, _lastActivity, _actions,
            CostSoFar(), _page?.Url, _page?.PageCount ?? 0, _runningAction);

    private AnchorException NotFound() =>
        new(ErrorCodes.SessionNotFound, $"session_not_found: no session '{SessionId}' for this client; create one with browser_session_create or omit session_id to use your default session.");

    /// <summary>What a call gets when its session was closed under it: the emergency refusal, or the end as a late call would see it.</summary>
    private AnchorException Closed(SessionEndReason reason) => reason == SessionEndReason.Emergency
        ? new(ErrorCodes.EmergencyShutdown, $"emergency_shutdown: session '{SessionId}' was closed by the emergency shutdown during this call.")
        : Expired(new EndedSession(SessionId, _clientId, reason, _endedAt ?? time.GetUtcNow()));

    private static AnchorException Expired(EndedSession ended) =>
        new(ErrorCodes.SessionExpired, $"session_expired: session '{ended.SessionId}' ended at {ended.EndedAt:O} ({AnchorMetrics.ReasonLabel(ended.Reason)}); create a new session.");

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} opened for {ClientId}")]
    private static partial void LogOpened(ILogger logger, string sessionId, string clientId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {ClientId} ended ({Reason}), cost {CostUsd} USD")]
    private static partial void LogEnded(ILogger logger, string sessionId, string clientId, string reason, decimal costUsd);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} could not settle or release its lease now ({Error}); the registry sweep will")]
    private static partial void LogSettleDeferred(ILogger logger, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId}: the interrupted action did not unwind in time; settling regardless")]
    private static partial void LogUnwindSlow(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} could not open ({Error}); its lease and reservation are released")]
    private static partial void LogOpenFailed(ILogger logger, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {ClientId} suspended for a move to another silo (cost so far {CostUsd} USD)")]
    private static partial void LogSuspended(ILogger logger, string sessionId, string clientId, decimal costUsd);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} could not be suspended ({Error}); it is closed with the drain instead")]
    private static partial void LogSuspendFailed(ILogger logger, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {ClientId} restored on this silo ({How}) from its checkpoint of {TakenAt:O}")]
    private static partial void LogRestored(ILogger logger, string sessionId, string clientId, string how, DateTimeOffset takenAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} of {ClientId} lost its silo again after {Restores} restores after losses; not restored, closed and settled")]
    private static partial void LogRestoreRefused(ILogger logger, string sessionId, string clientId, int restores);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} could not be restored here ({Error}); it is closed and settled")]
    private static partial void LogRestoreFailed(ILogger logger, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checkpoint of session {SessionId} failed: {Error}")]
    private static partial void LogCheckpointFailed(ILogger logger, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the browser context of session {SessionId} failed: {Error}")]
    private static partial void LogContextCloseFailed(ILogger logger, string sessionId, string error);
}
