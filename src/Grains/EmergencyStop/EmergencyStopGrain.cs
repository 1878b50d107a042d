using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Grains.Interfaces.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.Extensions.Logging;
using Orleans.Utilities;

namespace Anchor.Orleans.Grains.EmergencyStop;

/// <summary>
/// The emergency switch. A trip is durable before it is acknowledged, then pushed to every subscribed silo view,
/// alerted (critical) and audited; sessions are closed by a grain timer that retries until the registry answers,
/// then sweeps once more to catch a session that opened while the views were turning. Silos poll it every few
/// seconds, which both keeps their subscriptions fresh and keeps this activation alive.
/// </summary>
public sealed partial class EmergencyStopGrain : Grain, IEmergencyStopGrain
{
    /// <summary>The name of the switch's persisted state (views read it while the grain fails over).</summary>
    public const string StateName = "emergency";

    /// <summary>Audit entries kept in the state; older ones remain in the audit log.</summary>
    public const int AuditEntriesKept = 100;

    /// <summary>Sweeps after a trip: the first closes everything, the second catches a session opened during the turn.</summary>
    private const int Sweeps = 2;

    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    private readonly IPersistentState<EmergencyStopRecord> _state;
    private readonly IEmergencySessionCloser _closer;
    private readonly IAlertSink _alerts;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ILogger _audit;
    private readonly ObserverManager<IEmergencyStopObserver> _observers;
    private IGrainTimer? _sweepTimer;
    private int _sweepsLeft;

    public EmergencyStopGrain(
        [PersistentState(StateName, OrleansHostingExtensions.StorageName)] IPersistentState<EmergencyStopRecord> state,
        IEmergencySessionCloser closer,
        IAlertSink alerts,
        TimeProvider time,
        ILoggerFactory loggers)
    {
        _state = state;
        _closer = closer;
        _alerts = alerts;
        _time = time;
        _logger = loggers.CreateLogger<EmergencyStopGrain>();
        _audit = loggers.CreateLogger(AuditCategory);
        // Views re-subscribe every RefreshSeconds; one that stopped for a minute belongs to a dead silo.
        _observers = new ObserverManager<IEmergencyStopObserver>(TimeSpan.FromMinutes(1), _logger);
    }

    /// <summary>The log category of audit entries (who tripped or reset the switch, when, why).</summary>
    public const string AuditCategory = "Anchor.Audit";

    private EmergencyStopState Current => _state.State.Switch;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Current.Tripped)
        {
            // A trip whose sweep this activation did not see through (crash, restart): sweep again, it is idempotent.
            StartSweeps();
        }

        return Task.CompletedTask;
    }

    public async Task<EmergencyStopState> TripAsync(string reason, string actor, CancellationToken cancellationToken = default)
    {
        reason = Require(reason, nameof(reason));
        actor = Require(actor, nameof(actor));
        if (Current.Tripped)
        {
            return Current;
        }

        var now = _time.GetUtcNow();
        var entry = new EmergencyAuditEntry("trip", actor, reason, now);
        await SaveAsync(Current with
        {
            Tripped = true,
            Reason = reason,
            TrippedBy = actor,
            TrippedAt = now,
            ResetBy = null,
            ResetAt = null,
            Version = Current.Version + 1,
            Audit = Append(Current.Audit, entry),
        });
        LogTripped(_audit, actor, reason, now);
        StartSweeps();
        await RaiseAsync(new Alert(
            AlertSeverity.Critical,
            AlertKey,
            "Emergency shutdown",
            $"Emergency shutdown tripped by {actor}: {reason}. Every silo refuses new work and every session is being closed.",
            now,
            new Dictionary<string, string> { ["actor"] = actor, ["reason"] = reason }));
        return Current;
    }

    public async Task<EmergencyStopState> ResetAsync(string actor, CancellationToken cancellationToken = default)
    {
        actor = Require(actor, nameof(actor));
        if (!Current.Tripped)
        {
            return Current;
        }

        var now = _time.GetUtcNow();
        await SaveAsync(Current with
        {
            Tripped = false,
            ResetBy = actor,
            ResetAt = now,
            Version = Current.Version + 1,
            Audit = Append(Current.Audit, new EmergencyAuditEntry("reset", actor, null, now)),
        });
        LogReset(_audit, actor, now);
        StopSweeps();
        await RaiseAsync(new Alert(AlertSeverity.Resolved, AlertKey, "Emergency shutdown reset", $"Emergency shutdown reset by {actor}; the cluster accepts work again.", now, new Dictionary<string, string> { ["actor"] = actor }));
        return Current;
    }

    public Task<EmergencyStopState> GetStateAsync(CancellationToken cancellationToken = default) => Task.FromResult(Current);

    public Task<EmergencyStopState> SubscribeAsync(IEmergencyStopObserver observer, CancellationToken cancellationToken = default)
    {
        _observers.Subscribe(observer, observer);
        return Task.FromResult(Current);
    }

    public Task UnsubscribeAsync(IEmergencyStopObserver observer, CancellationToken cancellationToken = default)
    {
        _observers.Unsubscribe(observer);
        return Task.CompletedTask;
    }

    public async Task<EmergencyStopState> RestoreAsync(EmergencyStopState state, CancellationToken cancellationToken = default)
    {
        // Views ignore versions they have passed: a restored state must carry a version they have not seen.
        var version = state.Version > Current.Version ? state.Version : Current.Version + 1;
        await SaveAsync(state with { Version = version });
        LogRestored(_audit, EmergencyStopActors.Import, state.Tripped, _time.GetUtcNow());
        if (Current.Tripped)
        {
            StartSweeps();
        }
        else
        {
            StopSweeps();
        }

        return Current;
    }

    private async Task SaveAsync(EmergencyStopState next)
    {
        // Redis storage writes JSON with type names: the audit must be a concrete List, not a compiler-made list type.
        _state.State.Switch = next with { Audit = next.Audit.ToList() };
        await _state.WriteStateAsync();
        // One-way pushes: a slow or dead silo cannot hold up the switch; it polls within RefreshSeconds anyway.
        await _observers.Notify(o => o.OnChangedAsync(next));
    }

    private void StartSweeps()
    {
        _sweepsLeft = Sweeps;
        _sweepTimer ??= this.RegisterGrainTimer(SweepAsync, new GrainTimerCreationOptions(TimeSpan.Zero, SweepInterval) { Interleave = true, KeepAlive = true });
    }

    private void StopSweeps()
    {
        _sweepTimer?.Dispose();
        _sweepTimer = null;
        _sweepsLeft = 0;
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        if (!Current.Tripped || _sweepsLeft <= 0)
        {
            StopSweeps();
            return;
        }

        try
        {
            var closed = await _closer.CloseAllAsync(cancellationToken);
            _sweepsLeft--;
            LogSwept(_logger, closed, _sweepsLeft);
        }
        catch (Exception ex)
        {
            // Retried on the next tick until the registry answers.
            LogSweepFailed(_logger, ex);
        }

        if (_sweepsLeft <= 0)
        {
            StopSweeps();
        }
    }

    private async Task RaiseAsync(Alert alert)
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

    private static List<EmergencyAuditEntry> Append(IReadOnlyList<EmergencyAuditEntry> audit, EmergencyAuditEntry entry) =>
        [.. audit.Skip(Math.Max(0, audit.Count - AuditEntriesKept + 1)), entry];

    private static string Require(string value, string name) =>
        string.IsNullOrWhiteSpace(value)
            ? throw new AnchorException(ErrorCodes.InvalidArgument, $"{name} is required.")
            : value.Trim();

    public const string AlertKey = "emergency:shutdown";

    [LoggerMessage(EventId = 4001, Level = LogLevel.Critical, Message = "AUDIT emergency shutdown tripped by {Actor} at {At:O}: {Reason}")]
    private static partial void LogTripped(ILogger logger, string actor, string reason, DateTimeOffset at);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "AUDIT emergency shutdown reset by {Actor} at {At:O}")]
    private static partial void LogReset(ILogger logger, string actor, DateTimeOffset at);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "AUDIT emergency switch restored from backup by {Actor} at {At:O} (tripped: {Tripped})")]
    private static partial void LogRestored(ILogger logger, string actor, bool tripped, DateTimeOffset at);

    [LoggerMessage(Level = LogLevel.Information, Message = "Emergency sweep closed {Closed} session(s); {SweepsLeft} sweep(s) left")]
    private static partial void LogSwept(ILogger logger, int closed, int sweepsLeft);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Emergency sweep could not close sessions; retrying")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {AlertKey} could not be raised")]
    private static partial void LogAlertFailed(ILogger logger, string alertKey, Exception exception);
}

[GenerateSerializer, Alias("anchor.EmergencyStopRecord")]
public sealed class EmergencyStopRecord
{
    [Id(0)]
    public EmergencyStopState Switch { get; set; } = EmergencyStopState.Initial;
}
