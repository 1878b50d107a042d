using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>
/// One browser session. Its browser context lives in this activation's memory on the silo where it activated;
/// nothing about the browser is persisted, so an activation that finds itself without a context after its silo
/// died answers <c>session_expired</c> instead of handing out a fresh, empty browser. Owns its lifetime (idle and
/// maximum duration), its cost (reserve before spending, settle once at the end) and its registry lease.
/// </summary>
[KeepAlive]
[PreferLocalPlacement] // The browser opens on the silo whose front received the session: one hop less per action.
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
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<BrowserSessionGrain> logger) : Grain, IBrowserSessionGrain
{
    private BrowserPage? _page;
    private string _clientId = "";
    private DateTimeOffset _openedAt;
    private DateTimeOffset _expiresAt;
    private DateTimeOffset _lastActivity;
    private int _actions;
    private decimal _reservedUsd;
    private IGrainTimer? _lifetimeTimer;

    private string SessionId => this.GetPrimaryKeyString();

    private ISessionRegistryGrain Registry => GrainFactory.GetGrain<ISessionRegistryGrain>(0);

    private bool IsOpen => _page is not null;

    public async Task<SessionInfo> OpenAsync(string clientId, CancellationToken cancellationToken = default)
    {
        if (IsOpen)
        {
            return _clientId == clientId ? Info() : throw NotFound();
        }

        if (await Registry.GetEndedAsync(SessionId) is { } ended && ended.ClientId == clientId)
        {
            throw Expired(ended);
        }

        await OpenCoreAsync(clientId, cancellationToken);
        return Info();
    }

    public async Task<ActionResult> ExecuteAsync(string clientId, BrowserAction action, bool openIfNeeded = false, CancellationToken cancellationToken = default)
    {
        if (!IsOpen)
        {
            var ended = await Registry.GetEndedAsync(SessionId);
            // A default session whose browser was lost says so once (session_expired); the next call opens a fresh one.
            if (!openIfNeeded || ended is { JustLost: true })
            {
                throw ended is not null && ended.ClientId == clientId ? Expired(ended) : NotFound();
            }

            await OpenCoreAsync(clientId, cancellationToken);
        }

        if (_clientId != clientId)
        {
            throw NotFound();
        }

        var steps = action is RunTaskAction task ? task.Steps.Count + 1 : 1;
        await EnsureReservedAsync(Accrued(time.GetUtcNow(), _actions + steps), cancellationToken);
        _actions += steps;
        _lastActivity = time.GetUtcNow();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(sessionOptions.CurrentValue.ActionTimeoutSeconds));
        try
        {
            var result = await _page!.RunAsync(action, timeout.Token);
            if (result.Extract is { } extract)
            {
                metrics.Extracted(extract.Records.Count, extract.Completeness);
            }

            return result;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new AnchorException(ErrorCodes.Timeout, $"timeout: {action.Name} exceeded Sessions:ActionTimeoutSeconds ({sessionOptions.CurrentValue.ActionTimeoutSeconds} s).");
        }
        catch (AnchorException ex) when (ex.Code == ErrorCodes.BrowserError && _page is { IsGone: true })
        {
            // The browser died under the session: end it (settled, slot freed) instead of keeping a dead page open.
            // The engine relaunches Chromium for the next session.
            await EndAsync(SessionEndReason.Failed);
            throw new AnchorException(ErrorCodes.BrowserError, $"browser_error: the browser of session '{SessionId}' stopped during {action.Name}; the session was closed. Create a new session (or call again to use a fresh default session).");
        }
        finally
        {
            _lastActivity = time.GetUtcNow();
        }
    }

    public Task<SessionInfo?> GetInfoAsync(string? clientId) =>
        Task.FromResult(IsOpen && (clientId is null || clientId == _clientId) ? Info() : null);

    public async Task<bool> CloseAsync(string? clientId, SessionEndReason reason)
    {
        if (!IsOpen)
        {
            return false;
        }

        if (clientId is not null && clientId != _clientId)
        {
            throw NotFound();
        }

        await EndAsync(reason);
        return true;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (IsOpen)
        {
            // Shutting down is a drain; any other deactivation of an open session loses its browser.
            await EndAsync(reason.ReasonCode == DeactivationReasonCode.ShuttingDown ? SessionEndReason.Drained : SessionEndReason.Lost);
        }
    }

    private async Task OpenCoreAsync(string clientId, CancellationToken cancellationToken)
    {
        if (!local.AcceptingNewSessions)
        {
            throw new AnchorException(ErrorCodes.ConcurrencyLimit, "concurrency_limit: this silo is draining for shutdown; retry and another silo will take the session.");
        }

        var policy = policies.For(clientId);
        var lease = await Registry.AcquireAsync(SessionId, clientId, silo.SiloAddress.ToParsableString(), policy.MaxSessions, cancellationToken);
        if (!lease.Granted)
        {
            metrics.Refused(lease.RefusalCode!);
            throw new AnchorException(lease.RefusalCode!, lease.RefusalMessage!);
        }

        var openedAt = lease.Lease!.AcquiredAt;
        var reserve = pricingOptions.CurrentValue.SessionReserveUsd;
        try
        {
            await budget.ReserveAsync(SessionBilling.Id(SessionId, openedAt), clientId, openedAt, reserve, cancellationToken);
        }
        catch (AnchorException ex)
        {
            if (ex.Code == ErrorCodes.StorageUnavailable)
            {
                // The reservation may have landed before the failure: settling at zero releases it either way.
                await budget.SettleAsync(SessionBilling.Id(SessionId, openedAt), clientId, openedAt, 0m);
            }

            await Registry.ReleaseAsync(SessionId, SessionEndReason.Failed);
            throw;
        }

        try
        {
            var o = sessionOptions.CurrentValue;
            _page = await BrowserPage.OpenAsync(
                engine, urls, policy.AllowedHosts, TimeSpan.FromSeconds(o.ActionTimeoutSeconds), TimeSpan.FromSeconds(browserOptions.CurrentValue.ElementTimeoutSeconds), cancellationToken);
        }
        catch
        {
            await budget.SettleAsync(SessionBilling.Id(SessionId, openedAt), clientId, openedAt, 0m);
            await Registry.ReleaseAsync(SessionId, SessionEndReason.Failed);
            throw;
        }

        _clientId = clientId;
        _openedAt = openedAt;
        _expiresAt = lease.Lease.ExpiresAt;
        _lastActivity = time.GetUtcNow();
        _actions = 0;
        _reservedUsd = reserve;
        local.Add(SessionId, clientId);
        metrics.SessionOpened();
        var sessions = sessionOptions.CurrentValue;
        var tick = TimeSpan.FromSeconds(Math.Clamp(Math.Min(sessions.IdleTimeoutSeconds, sessions.MaxDurationSeconds) / 4.0, 0.25, 5));
        _lifetimeTimer = this.RegisterGrainTimer(CheckLifetimeAsync, new GrainTimerCreationOptions(tick, tick) { KeepAlive = true });
        LogOpened(logger, SessionId, clientId);
    }

    private async Task CheckLifetimeAsync(CancellationToken cancellationToken)
    {
        if (!IsOpen)
        {
            return;
        }

        var now = time.GetUtcNow();
        var idle = TimeSpan.FromSeconds(sessionOptions.CurrentValue.IdleTimeoutSeconds);
        if (now >= _expiresAt)
        {
            await EndAsync(SessionEndReason.TimedOut);
        }
        else if (now - _lastActivity >= idle)
        {
            await EndAsync(SessionEndReason.Idle);
        }
        else
        {
            try
            {
                // Open minutes cost money too: hold enough for them, or end the session when the budget is spent.
                await EnsureReservedAsync(Accrued(now, _actions), cancellationToken);
            }
            catch (AnchorException ex) when (ex.Code == ErrorCodes.BudgetExceeded)
            {
                await EndAsync(SessionEndReason.Budget);
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
    }

    private decimal Accrued(DateTimeOffset at, int actions)
    {
        var pricing = pricingOptions.CurrentValue;
        var minutes = (decimal)Math.Max(0, (at - _openedAt).TotalMinutes);
        return Math.Round((minutes * pricing.SessionMinuteUsd) + (actions * pricing.ActionUsd), 6);
    }

    private async Task EndAsync(SessionEndReason reason)
    {
        var page = _page!;
        _page = null;
        _lifetimeTimer?.Dispose();
        _lifetimeTimer = null;
        local.Remove(SessionId);
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

        var cost = Math.Min(Accrued(now, _actions), _reservedUsd);
        metrics.SessionClosed(reason, now - _openedAt);
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
        this.DeactivateOnIdle();
    }

    private SessionInfo Info() =>
        new(SessionId, _clientId, silo.SiloAddress.ToParsableString(), _openedAt, _expiresAt, _lastActivity, _actions,
            Math.Min(Accrued(time.GetUtcNow(), _actions), _reservedUsd), _page?.Url);

    private AnchorException NotFound() =>
        new(ErrorCodes.SessionNotFound, $"session_not_found: no session '{SessionId}' for this client; create one with browser_session_create or omit session_id to use your default session.");

    private static AnchorException Expired(EndedSession ended) =>
        new(ErrorCodes.SessionExpired, $"session_expired: session '{ended.SessionId}' ended at {ended.EndedAt:O} ({AnchorMetrics.ReasonLabel(ended.Reason)}); create a new session.");

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} opened for {ClientId}")]
    private static partial void LogOpened(ILogger logger, string sessionId, string clientId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {ClientId} ended ({Reason}), cost {CostUsd} USD")]
    private static partial void LogEnded(ILogger logger, string sessionId, string clientId, string reason, decimal costUsd);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} could not settle or release its lease now ({Error}); the registry sweep will")]
    private static partial void LogSettleDeferred(ILogger logger, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the browser context of session {SessionId} failed: {Error}")]
    private static partial void LogContextCloseFailed(ILogger logger, string sessionId, string error);
}
