using System.Globalization;
using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Grains.Interfaces.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Persistence;
using Anchor.Orleans.Grains.Sessions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Anchor.Orleans.Grains.Budgets;

/// <summary>
/// A budget period's ledger. Reentrant so that concurrent reservations interleave at the storage write and share
/// it (<see cref="GroupCommit"/>); every decision is taken and applied between awaits, so limits hold exactly.
/// </summary>
[Reentrant]
public sealed partial class BudgetLedgerGrain : Grain, IBudgetLedgerGrain
{
    private readonly IPersistentState<BudgetLedgerState> _state;
    private readonly IOptionsMonitor<BudgetOptions> _budget;
    private readonly IOptionsMonitor<SessionsOptions> _sessions;
    private readonly IAlertSink _alerts;
    private readonly TimeProvider _time;
    private readonly ILogger<BudgetLedgerGrain> _logger;
    private readonly GroupCommit _commit;
    private bool _isDay;
    private bool _indexed;
    private DateTimeOffset _lastPrune;

    public BudgetLedgerGrain(
        [PersistentState("ledger", OrleansHostingExtensions.StorageName)] IPersistentState<BudgetLedgerState> state,
        IOptionsMonitor<BudgetOptions> budget,
        IOptionsMonitor<SessionsOptions> sessions,
        IAlertSink alerts,
        TimeProvider time,
        ILogger<BudgetLedgerGrain> logger)
    {
        _state = state;
        _budget = budget;
        _sessions = sessions;
        _alerts = alerts;
        _time = time;
        _logger = logger;
        _commit = new GroupCommit(() => _state.WriteStateAsync(), OnWriteFailed);
    }

    private BudgetLedgerState S => _state.State;

    private string Period => this.GetPrimaryKeyString();

    private decimal GlobalLimit => _isDay ? _budget.CurrentValue.DailyLimitUsd : _budget.CurrentValue.MonthlyLimitUsd;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!BudgetPeriods.IsValid(Period))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: '{Period}' is not a budget period (day:yyyy-MM-dd or month:yyyy-MM).");
        }

        _isDay = BudgetPeriods.IsDay(Period);
        S.Period = Period;
        _indexed = _state.RecordExists;
        return Task.CompletedTask;
    }

    public async Task<ReserveResult> ReserveAsync(string sessionId, string clientId, decimal amountUsd, decimal clientLimitUsd, CancellationToken cancellationToken = default)
    {
        _commit.ThrowIfFaulted();
        if (amountUsd <= 0)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: a reservation must be positive (got {amountUsd}).");
        }

        if (S.Settled.ContainsKey(sessionId))
        {
            return new ReserveResult(false, null, 0, 0, AlreadySettled: true);
        }

        if (S.Reservations.TryGetValue(sessionId, out var existing) && existing.ClientId != clientId)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "invalid_argument: the session belongs to another client.");
        }

        var globalLimit = GlobalLimit;
        var globalCommitted = S.SpentUsd + S.ReservedUsd;
        if (globalCommitted + amountUsd > globalLimit)
        {
            return new ReserveResult(false, BudgetScope.Global, globalLimit, globalCommitted);
        }

        var client = ClientOf(clientId);
        var clientCommitted = client.SpentUsd + client.ReservedUsd;
        if (clientCommitted + amountUsd > clientLimitUsd)
        {
            return new ReserveResult(false, BudgetScope.Client, clientLimitUsd, clientCommitted);
        }

        if (existing is null)
        {
            existing = new OpenReservation { ClientId = clientId, ReservedAt = _time.GetUtcNow() };
            S.Reservations[sessionId] = existing;
        }

        existing.AmountUsd += amountUsd;
        client.ReservedUsd += amountUsd;
        S.ReservedUsd += amountUsd;
        var alerts = CrossedThresholds();
        await CommitAsync();
        await RaiseAsync(alerts);
        return new ReserveResult(true, null, globalLimit, globalCommitted + amountUsd);
    }

    public async Task ReleaseAsync(string sessionId, decimal amountUsd, CancellationToken cancellationToken = default)
    {
        _commit.ThrowIfFaulted();
        if (amountUsd <= 0 || !S.Reservations.TryGetValue(sessionId, out var reservation))
        {
            return;
        }

        var released = Math.Min(amountUsd, reservation.AmountUsd);
        reservation.AmountUsd -= released;
        ClientOf(reservation.ClientId).ReservedUsd -= released;
        S.ReservedUsd -= released;
        if (reservation.AmountUsd == 0)
        {
            S.Reservations.Remove(sessionId);
        }

        await CommitAsync();
    }

    public async Task<SettleResult> SettleAsync(string sessionId, decimal? actualUsd, CancellationToken cancellationToken = default)
    {
        _commit.ThrowIfFaulted();
        if (!S.Reservations.Remove(sessionId, out var reservation))
        {
            return new SettleResult(false, 0, 0);
        }

        var now = _time.GetUtcNow();
        var charged = Math.Clamp(actualUsd ?? reservation.AmountUsd, 0, reservation.AmountUsd);
        var client = ClientOf(reservation.ClientId);
        client.ReservedUsd -= reservation.AmountUsd;
        client.SpentUsd += charged;
        client.SessionsSettled++;
        S.ReservedUsd -= reservation.AmountUsd;
        S.SpentUsd += charged;
        S.SessionsSettled++;
        S.Settled[sessionId] = now;
        PruneSettled(now);

        var alerts = CrossedThresholds();
        var trip = _isDay && !S.EmergencyTripped && S.SpentUsd >= _budget.CurrentValue.EmergencyShutdownUsd;
        S.EmergencyTripped |= trip;
        await CommitAsync();
        await RaiseAsync(alerts);
        if (trip)
        {
            await TripEmergencyAsync();
        }

        return new SettleResult(true, charged, reservation.AmountUsd - charged);
    }

    public Task<LedgerRoom> CheckRoomAsync(string clientId, decimal clientLimitUsd, CancellationToken cancellationToken = default)
    {
        var globalLimit = GlobalLimit;
        var globalCommitted = S.SpentUsd + S.ReservedUsd;
        S.Clients.TryGetValue(clientId, out var client);
        var clientCommitted = client is null ? 0 : client.SpentUsd + client.ReservedUsd;
        BudgetScope? exhausted = globalCommitted >= globalLimit ? BudgetScope.Global
            : clientCommitted >= clientLimitUsd ? BudgetScope.Client
            : null;
        return Task.FromResult(new LedgerRoom(exhausted, globalLimit, globalCommitted, clientLimitUsd, clientCommitted));
    }

    public Task<LedgerTotals> GetTotalsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(new LedgerTotals(
            Period,
            S.SpentUsd,
            S.ReservedUsd,
            S.SessionsSettled,
            GlobalLimit,
            S.Clients.ToDictionary(c => c.Key, c => new ClientTotals(c.Value.SpentUsd, c.Value.ReservedUsd, c.Value.SessionsSettled), StringComparer.Ordinal)));

    public Task<BudgetLedgerState> GetSnapshotAsync(CancellationToken cancellationToken = default) => Task.FromResult(S);

    public async Task RestoreAsync(BudgetLedgerState snapshot, CancellationToken cancellationToken = default)
    {
        _commit.ThrowIfFaulted();
        if (!string.Equals(snapshot.Period, Period, StringComparison.Ordinal))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: snapshot of '{snapshot.Period}' cannot restore '{Period}'.");
        }

        _state.State = snapshot;
        await CommitAsync();
    }

    private ClientLedger ClientOf(string clientId)
    {
        if (!S.Clients.TryGetValue(clientId, out var client))
        {
            client = new ClientLedger();
            S.Clients[clientId] = client;
        }

        return client;
    }

    private async Task CommitAsync()
    {
        var commit = _commit.CommitAsync();
        if (!_indexed)
        {
            // First change of a new period: make it findable by backups. Idempotent, once per activation.
            _indexed = true;
            await GrainFactory.GetGrain<ILedgerIndexGrain>(0).RegisterAsync(Period);
        }

        await commit;
    }

    private void OnWriteFailed(Exception exception)
    {
        LogWriteFailed(_logger, Period, exception);
        // Memory now holds changes storage does not: reload from storage in a fresh activation.
        DeactivateOnIdle();
    }

    /// <summary>Settled sessions are remembered longer than any session can live, so none can reserve again.</summary>
    private void PruneSettled(DateTimeOffset now)
    {
        var retention = TimeSpan.FromSeconds(Math.Max(3600, 2 * _sessions.CurrentValue.MaxDurationSeconds));
        if (now - _lastPrune < TimeSpan.FromMinutes(1))
        {
            return;
        }

        _lastPrune = now;

        foreach (var (id, at) in S.Settled.ToList())
        {
            if (now - at > retention)
            {
                S.Settled.Remove(id);
            }
        }
    }

    /// <summary>Thresholds of utilization ((spent + reserved) ÷ limit) newly crossed, marked fired in the state about to be written.</summary>
    private List<Alert> CrossedThresholds()
    {
        var t = _budget.CurrentValue.Thresholds;
        var (warning, critical) = _isDay ? (t.DailyWarningPercent, t.DailyCriticalPercent) : (t.MonthlyWarningPercent, t.MonthlyCriticalPercent);
        var limit = GlobalLimit;
        var committed = S.SpentUsd + S.ReservedUsd;
        var alerts = new List<Alert>();
        foreach (var (percent, severity) in new[] { (warning, AlertSeverity.Warning), (critical, AlertSeverity.Critical) })
        {
            if (committed * 100 >= limit * percent && !S.FiredThresholds.Contains(percent))
            {
                S.FiredThresholds.Add(percent);
                var kind = _isDay ? "daily" : "monthly";
                var periodName = Period[(Period.IndexOf(':', StringComparison.Ordinal) + 1)..];
                alerts.Add(new Alert(
                    severity,
                    $"budget:{kind}:{periodName}:{percent}",
                    $"{(_isDay ? "Daily" : "Monthly")} budget at {percent}%",
                    string.Create(CultureInfo.InvariantCulture, $"The {kind} budget for {periodName} has reached {percent}% utilization: ${committed:0.00##} committed of ${limit:0.00##}."),
                    _time.GetUtcNow(),
                    new Dictionary<string, string>
                    {
                        ["period"] = Period,
                        ["threshold_percent"] = percent.ToString(CultureInfo.InvariantCulture),
                        ["committed_usd"] = committed.ToString(CultureInfo.InvariantCulture),
                        ["limit_usd"] = limit.ToString(CultureInfo.InvariantCulture),
                    }));
            }
        }

        return alerts;
    }

    // Alerts are raised after the state recording them is durable: once per period, never lost to a failed write.
    private async Task RaiseAsync(List<Alert> alerts)
    {
        foreach (var alert in alerts)
        {
            try
            {
                await _alerts.RaiseAsync(alert);
            }
            catch (Exception ex)
            {
                LogAlertFailed(_logger, alert.Key, ex);
            }
        }
    }

    private async Task TripEmergencyAsync()
    {
        var threshold = _budget.CurrentValue.EmergencyShutdownUsd;
        var reason = string.Create(CultureInfo.InvariantCulture, $"recorded spend ${S.SpentUsd:0.00##} on {Period[BudgetPeriods.DayPrefix.Length..]} reached Budget:EmergencyShutdownUsd (${threshold:0.00##})");
        try
        {
            await GrainFactory.GetGrain<IEmergencyStopGrain>(0).TripAsync(reason, EmergencyStopActors.Budget);
        }
        catch (Exception ex)
        {
            // The settlement is durable; the switch must still trip. Undo the mark so the next settlement retries.
            LogTripFailed(_logger, Period, ex);
            S.EmergencyTripped = false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Budget ledger {Period} could not be saved; deactivating to reload from storage")]
    private static partial void LogWriteFailed(ILogger logger, string period, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Budget alert {AlertKey} could not be raised")]
    private static partial void LogAlertFailed(ILogger logger, string alertKey, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Budget ledger {Period} could not trip the emergency switch; will retry on the next settlement")]
    private static partial void LogTripFailed(ILogger logger, string period, Exception exception);
}
