using System.Globalization;
using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Grains.Interfaces.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Persistence;
using Anchor.Orleans.Grains.Sessions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Serialization;

namespace Anchor.Orleans.Grains.Budgets;

/// <summary>
/// A budget period's ledger. Reentrant so that concurrent reservations interleave at the storage write and share
/// it (<see cref="GroupCommit"/>); every decision is taken and applied between awaits, so limits hold exactly.
/// Persisted incrementally (<see cref="EntryState{THead, TEntry}"/>): the totals are the head, each session's record
/// (open reservation, or settled marker kept for exactly-once) is an entry, so a write carries the totals and only
/// the sessions that changed — its cost does not grow with the period.
/// </summary>
[Reentrant]
public sealed partial class BudgetLedgerGrain : Grain, IBudgetLedgerGrain
{
    /// <summary>The stored state's name (Redis keys, test inspection).</summary>
    public const string StateName = "ledger";

    private readonly EntryState<LedgerHead, LedgerSessionEntry> _state;
    private readonly IOptionsMonitor<BudgetOptions> _budget;
    private readonly IOptionsMonitor<SessionsOptions> _sessions;
    private readonly IAlertSink _alerts;
    private readonly TimeProvider _time;
    private readonly ILogger<BudgetLedgerGrain> _logger;
    private readonly GroupCommit _commit;

    // Settled sessions in settlement order, so forgetting the old ones costs O(forgotten), not a scan of the period.
    private readonly Queue<(string SessionId, DateTimeOffset SettledAt)> _settledOrder = new();
    private bool _isDay;
    private bool _indexed;

    public BudgetLedgerGrain(
        IEntryStateStore store,
        Serializer serializer,
        IOptionsMonitor<BudgetOptions> budget,
        IOptionsMonitor<SessionsOptions> sessions,
        IAlertSink alerts,
        TimeProvider time,
        ILogger<BudgetLedgerGrain> logger)
    {
        _state = new EntryState<LedgerHead, LedgerSessionEntry>(store, serializer, StateName);
        _budget = budget;
        _sessions = sessions;
        _alerts = alerts;
        _time = time;
        _logger = logger;
        _commit = new GroupCommit(() => _state.WriteAsync(), OnWriteFailed);
    }

    private LedgerHead S => _state.Head;

    private string Period => this.GetPrimaryKeyString();

    private decimal GlobalLimit => _isDay ? _budget.CurrentValue.DailyLimitUsd : _budget.CurrentValue.MonthlyLimitUsd;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!BudgetPeriods.IsValid(Period))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"'{Period}' is not a budget period (day:yyyy-MM-dd or month:yyyy-MM).");
        }

        _isDay = BudgetPeriods.IsDay(Period);
        await _state.ReadAsync(this.GetGrainId(), cancellationToken);
        S.Period = Period;
        _indexed = _state.RecordExists;
        IndexSettled();
    }

    public async Task<ReserveResult> ReserveAsync(string sessionId, string clientId, decimal amountUsd, decimal clientLimitUsd, CancellationToken cancellationToken = default)
    {
        _commit.ThrowIfFaulted();
        if (amountUsd <= 0)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"a reservation must be positive (got {amountUsd}).");
        }

        _state.Entries.TryGetValue(sessionId, out var existing);
        if (existing is { IsSettled: true })
        {
            return new ReserveResult(false, null, 0, 0, AlreadySettled: true);
        }

        if (existing is not null && existing.ClientId != clientId)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "the session belongs to another client.");
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

        existing ??= new LedgerSessionEntry { ClientId = clientId, ReservedAt = _time.GetUtcNow() };
        existing.AmountUsd += amountUsd;
        _state.Set(sessionId, existing);
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
        if (amountUsd <= 0 || !_state.Entries.TryGetValue(sessionId, out var reservation) || reservation.IsSettled)
        {
            return;
        }

        var released = Math.Min(amountUsd, reservation.AmountUsd);
        reservation.AmountUsd -= released;
        ClientOf(reservation.ClientId).ReservedUsd -= released;
        S.ReservedUsd -= released;
        if (reservation.AmountUsd == 0)
        {
            _state.Remove(sessionId);
        }
        else
        {
            _state.Changed(sessionId);
        }

        await CommitAsync();
    }

    public async Task<SettleResult> SettleAsync(string sessionId, decimal? actualUsd, CancellationToken cancellationToken = default)
    {
        _commit.ThrowIfFaulted();
        if (!_state.Entries.TryGetValue(sessionId, out var reservation) || reservation.IsSettled)
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
        var reserved = reservation.AmountUsd;
        // The record stays as the settled marker (exactly-once): the reservation is gone, the session cannot reserve again.
        _state.Set(sessionId, new LedgerSessionEntry { ClientId = reservation.ClientId, ReservedAt = reservation.ReservedAt, SettledAt = now });
        _settledOrder.Enqueue((sessionId, now));
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

        return new SettleResult(true, charged, reserved - charged);
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

    public Task<LedgerTotals> GetClientTotalsAsync(string clientId, CancellationToken cancellationToken = default)
    {
        IReadOnlyDictionary<string, ClientTotals> mine = S.Clients.TryGetValue(clientId, out var c)
            ? new Dictionary<string, ClientTotals>(StringComparer.Ordinal) { [clientId] = new(c.SpentUsd, c.ReservedUsd, c.SessionsSettled) }
            : new Dictionary<string, ClientTotals>(StringComparer.Ordinal);
        return Task.FromResult(new LedgerTotals(Period, S.SpentUsd, S.ReservedUsd, S.SessionsSettled, GlobalLimit, mine));
    }

    public Task<LedgerBackup> GetSnapshotAsync(CancellationToken cancellationToken = default)
    {
        // Sorted, so an export of the same ledger is the same document whatever order storage returned it in.
        var reservations = new SortedDictionary<string, ReservationBackup>(StringComparer.Ordinal);
        var settled = new SortedDictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var (id, entry) in _state.Entries)
        {
            if (entry.SettledAt is { } at)
            {
                settled[id] = at;
            }
            else
            {
                reservations[id] = new ReservationBackup(entry.ClientId, entry.AmountUsd, entry.ReservedAt);
            }
        }

        return Task.FromResult(new LedgerBackup(
            Period,
            S.SpentUsd,
            S.ReservedUsd,
            S.SessionsSettled,
            new SortedDictionary<string, ClientBackup>(S.Clients.ToDictionary(c => c.Key, c => new ClientBackup(c.Value.SpentUsd, c.Value.ReservedUsd, c.Value.SessionsSettled), StringComparer.Ordinal), StringComparer.Ordinal),
            reservations,
            settled,
            [.. S.FiredThresholds],
            S.EmergencyTripped));
    }

    public async Task RestoreAsync(LedgerBackup snapshot, CancellationToken cancellationToken = default)
    {
        _commit.ThrowIfFaulted();
        if (!string.Equals(snapshot.Period, Period, StringComparison.Ordinal))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"snapshot of '{snapshot.Period}' cannot restore '{Period}'.");
        }

        var head = new LedgerHead
        {
            Period = Period,
            SpentUsd = snapshot.SpentUsd,
            ReservedUsd = snapshot.ReservedUsd,
            SessionsSettled = snapshot.SessionsSettled,
            Clients = (snapshot.Clients ?? new Dictionary<string, ClientBackup>()).ToDictionary(
                c => c.Key,
                c => new ClientLedger { SpentUsd = c.Value.SpentUsd, ReservedUsd = c.Value.ReservedUsd, SessionsSettled = c.Value.SessionsSettled },
                StringComparer.Ordinal),
            FiredThresholds = [.. snapshot.FiredThresholds ?? []],
            EmergencyTripped = snapshot.EmergencyTripped,
        };
        var entries = (snapshot.Reservations ?? new Dictionary<string, ReservationBackup>())
            .Select(r => KeyValuePair.Create(r.Key, new LedgerSessionEntry { ClientId = r.Value.ClientId, AmountUsd = r.Value.AmountUsd, ReservedAt = r.Value.ReservedAt }))
            .Concat((snapshot.Settled ?? new Dictionary<string, DateTimeOffset>())
                .Select(s => KeyValuePair.Create(s.Key, new LedgerSessionEntry { ReservedAt = s.Value, SettledAt = s.Value })));
        _state.ReplaceAll(head, entries);
        IndexSettled();
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
        while (_settledOrder.TryPeek(out var oldest) && now - oldest.SettledAt > retention)
        {
            _settledOrder.Dequeue();
            if (_state.Entries.TryGetValue(oldest.SessionId, out var entry) && entry.SettledAt == oldest.SettledAt)
            {
                _state.Remove(oldest.SessionId);
            }
        }
    }

    private void IndexSettled()
    {
        _settledOrder.Clear();
        foreach (var (id, entry) in _state.Entries.Where(e => e.Value.SettledAt is not null).OrderBy(e => e.Value.SettledAt))
        {
            _settledOrder.Enqueue((id, entry.SettledAt!.Value));
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
