using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Persistence;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions.Queueing;
using Anchor.Orleans.Grains.Telemetry;
using Anchor.Orleans.Grains.Timeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Serialization;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>
/// The registry's persisted head: open leases (at most <c>Sessions:MaxConcurrent</c>) and counters. Recently ended
/// sessions are entries of their own (<see cref="EntryState{THead, TEntry}"/>), so a write carries the head and
/// the sessions that changed, not up to 10,000 remembered ones.
/// </summary>
[GenerateSerializer, Alias("anchor.SessionRegistryState")]
public sealed class SessionRegistryState
{
    [Id(0)]
    public Dictionary<string, SessionLease> Leases { get; set; } = [];

    [Id(2)]
    public long CleanupSucceeded { get; set; }

    [Id(3)]
    public long CleanupFailed { get; set; }

    [Id(4)]
    public DateTimeOffset? LastSweepAt { get; set; }

    [Id(5)]
    public long Created { get; set; }

    [Id(6)]
    public Dictionary<SessionEndReason, long> EndedByReason { get; set; } = [];

    [Id(7)]
    public double EndedSeconds { get; set; }
}

/// <summary>
/// The one place that counts open sessions, so <c>Sessions:MaxConcurrent</c> and per-client caps hold
/// cluster-wide. Leases are persisted (a registry that moves to another silo keeps them) and swept: a lease
/// whose silo died is ended as <see cref="SessionEndReason.Lost"/> and its reservation settled, so the slot
/// comes back within one cleanup interval.
/// </summary>
[KeepAlive]
public sealed partial class SessionRegistryGrain(
    IEntryStateStore store,
    Serializer serializer,
    IOptionsMonitor<SessionsOptions> options,
    IClusterMembershipService membership,
    ISessionBudget budget,
    AnchorMetrics events,
    ISessionTimeline timeline,
    TimeProvider time,
    ILogger<SessionRegistryGrain> logger) : Grain, ISessionRegistryGrain
{
    /// <summary>How long ended sessions are remembered for <c>session_expired</c> answers.</summary>
    public static readonly TimeSpan EndedRetention = TimeSpan.FromHours(1);

    private const int MaxEndedRemembered = 10_000;

    private readonly EntryState<SessionRegistryState, EndedSession> _state = new(store, serializer, "session-registry");

    // Ended sessions oldest first, so forgetting them costs O(forgotten), not a sort of all remembered.
    private readonly Queue<(string SessionId, DateTimeOffset EndedAt)> _endedOrder = new();

    private SlotQueue? _slots;

    private SessionRegistryState S => _state.Head;

    // Requests waiting for a slot and slots offered to them (memory only).
    private SlotQueue Slots => _slots ??= new SlotQueue(() => S.Leases, options, time, logger);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await _state.ReadAsync(this.GetGrainId(), cancellationToken);
        foreach (var ended in _state.Entries.Values.OrderBy(e => e.EndedAt))
        {
            _endedOrder.Enqueue((ended.SessionId, ended.EndedAt));
        }

        // Activated again after a failover: the silo that died with the old activation usually died with sessions.
        await ReclaimDeadSilosAsync();
    }

    public async Task<LeaseResult> AcquireAsync(string sessionId, string clientId, string silo, int maxPerClient, CancellationToken cancellationToken = default)
    {
        if (S.Leases.TryGetValue(sessionId, out var existing))
        {
            return existing.ClientId == clientId ? new LeaseResult(true, null, null, existing) : SlotQueue.NotYours(sessionId);
        }

        var o = options.CurrentValue;
        var now = time.GetUtcNow();
        Slots.Grant();
        var claim = Slots.Claim(sessionId, clientId);
        if (claim == SlotClaim.Foreign)
        {
            return SlotQueue.NotYours(sessionId);
        }

        if (claim == SlotClaim.None)
        {
            if (Slots.Queued(sessionId, clientId) is { } queued)
            {
                return queued;
            }

            if (Slots.Full)
            {
                // A dead silo's leases may still be counted: reclaim them before refusing.
                await ReclaimDeadSilosAsync();
            }

            if (Slots.Admit(sessionId, clientId, maxPerClient, now) is { } refused)
            {
                return refused;
            }
        }

        var lease = new SessionLease(sessionId, clientId, silo, now, now.AddSeconds(o.MaxDurationSeconds));
        S.Leases[sessionId] = lease;
        var endedBefore = _state.Entries.GetValueOrDefault(sessionId);
        _state.Remove(sessionId);
        S.Created++;
        try
        {
            await _state.WriteAsync(cancellationToken);
        }
        catch
        {
            // Not granted, so not held: a lease that never reached storage must not keep a slot in memory either.
            S.Leases.Remove(sessionId);
            S.Created--;
            if (endedBefore is not null)
            {
                _state.Set(sessionId, endedBefore);
            }

            Slots.Grant();
            throw;
        }

        return new LeaseResult(true, null, null, lease);
    }

    // Interleaved: every step between awaits is synchronous and leaves the queue consistent.
    public Task<SlotWait> WaitForSlotAsync(string sessionId, string clientId, int knownPosition, TimeSpan maxWait, CancellationToken cancellationToken = default) =>
        Slots.WaitAsync(sessionId, clientId, knownPosition, maxWait, cancellationToken);

    public Task LeaveQueueAsync(string sessionId, string clientId)
    {
        Slots.Leave(sessionId, clientId);
        return Task.CompletedTask;
    }

    public async Task ReleaseAsync(string sessionId, SessionEndReason reason)
    {
        if (S.Leases.Remove(sessionId, out var lease))
        {
            Remember(lease, reason);
            await _state.WriteAsync();
            Slots.Grant();
        }
    }

    public async Task ParkAsync(string sessionId, decimal costUsd)
    {
        if (S.Leases.TryGetValue(sessionId, out var lease))
        {
            S.Leases[sessionId] = lease with { ParkedAt = time.GetUtcNow(), ParkedCostUsd = costUsd };
            await _state.WriteAsync();
            LogParked(logger, sessionId, lease.ClientId, lease.Silo);
        }
    }

    public async Task<SessionResume> ResumeAsync(string sessionId, string clientId, string silo)
    {
        if (!S.Leases.TryGetValue(sessionId, out var lease))
        {
            return new SessionResume(null, EndedOf(sessionId, clientId));
        }

        if (lease.ClientId != clientId)
        {
            return new SessionResume(null, null);
        }

        if (!lease.Parked && lease.Silo != silo)
        {
            if (IsInCluster(lease.Silo))
            {
                return new SessionResume(null, LiveElsewhere(lease));
            }

            if (!options.CurrentValue.RestoreOnLoss || !options.CurrentValue.Checkpoints)
            {
                return new SessionResume(null, await EndLostNowAsync(lease));
            }
        }

        // Parked (its silo drained), lost with a dead silo, or left by an activation of this very silo: it moves here.
        // A lost lease keeps ParkedCostUsd null, which is how the restored session knows it was lost, not drained.
        var moved = lease with { Silo = silo, ParkedAt = null, ParkedCostUsd = null };
        S.Leases[sessionId] = moved;
        await _state.WriteAsync();
        LogResumed(logger, sessionId, clientId, lease.Silo, silo);
        return new SessionResume(moved with { ParkedCostUsd = lease.ParkedCostUsd }, null);
    }

    public async Task<IReadOnlyList<SessionLease>> ListAsync(string? clientId = null)
    {
        // A silo declared dead holds no sessions: free its slots now rather than at the next sweep, so no listing
        // (nor the cap) counts them once membership knows. Costs nothing when every lease's silo is alive.
        await ReclaimDeadSilosAsync();
        return [.. S.Leases.Values.Where(l => clientId is null || l.ClientId == clientId).OrderBy(l => l.AcquiredAt)];
    }

    public async Task<EndedSession?> GetEndedAsync(string sessionId, string clientId, string? askingSilo = null)
    {
        // Asked by a session grain that is not open: a lease it still holds was left by an activation that
        // is gone (its silo died), so the browser is lost. End it now rather than at the next sweep — unless the
        // lease's silo is another one still in the cluster: then the asker is a stray activation and the session
        // lives on there. Only the owner's call may end it: anyone else is told nothing and moves nothing.
        if (S.Leases.TryGetValue(sessionId, out var orphan))
        {
            if (orphan.ClientId != clientId)
            {
                return null;
            }

            if (askingSilo is not null && orphan.Silo != askingSilo && !orphan.Parked && IsInCluster(orphan.Silo))
            {
                return LiveElsewhere(orphan);
            }

            return await EndLostNowAsync(orphan);
        }

        return EndedOf(sessionId, clientId);
    }

    public async Task<int> ForceEndAsync(IReadOnlyList<string> sessionIds, SessionEndReason reason)
    {
        var stuck = sessionIds.Select(id => S.Leases.GetValueOrDefault(id)).OfType<SessionLease>().ToList();
        if (stuck.Count > 0)
        {
            await EndLostAsync(stuck);
        }

        return stuck.Count;
    }

    public async Task<IReadOnlyList<SessionLease>> SweepAsync()
    {
        var now = time.GetUtcNow();
        var o = options.CurrentValue;
        var grace = TimeSpan.FromSeconds(o.CleanupIntervalSeconds);
        // Every silo asks once per interval; one sweep per half interval is plenty.
        if (S.LastSweepAt is not { } last || now - last >= TimeSpan.FromSeconds(o.CleanupIntervalSeconds / 2.0))
        {
            await ReclaimDeadSilosAsync();
            Slots.Grant();
            Forget(e => now - e.EndedAt > EndedRetention);

            S.LastSweepAt = now;
            await _state.WriteAsync();
        }

        // Leases far past their maximum duration belong to sessions that failed to close themselves.
        return [.. S.Leases.Values.Where(l => now > l.ExpiresAt + grace)];
    }

    public async Task ReportCleanupAsync(int succeeded, int failed)
    {
        if (succeeded + failed == 0)
        {
            return;
        }

        S.CleanupSucceeded += succeeded;
        S.CleanupFailed += failed;
        await _state.WriteAsync();
    }

    public Task<CleanupStats> GetCleanupStatsAsync() => Task.FromResult(Stats());

    public Task<SessionStats> GetStatsAsync() =>
        Task.FromResult(new SessionStats(S.Created, S.Leases.Count, new Dictionary<SessionEndReason, long>(S.EndedByReason), S.EndedSeconds, Stats(), _slots?.Waiting ?? 0));

    private CleanupStats Stats() => new(S.CleanupSucceeded, S.CleanupFailed, S.LastSweepAt);

    /// <summary>How <paramref name="clientId"/>'s session ended, if it did recently; another client's ended session is not told.</summary>
    private EndedSession? EndedOf(string sessionId, string clientId) =>
        _state.Entries.GetValueOrDefault(sessionId) is { } ended && ended.ClientId == clientId ? ended : null;

    /// <summary>The answer to an activation that is not the session's: it lives on the lease's silo.</summary>
    private EndedSession LiveElsewhere(SessionLease lease) =>
        new(lease.SessionId, lease.ClientId, SessionEndReason.Lost, time.GetUtcNow(), LiveElsewhere: true);

    /// <summary>Ends <paramref name="lease"/> as lost now, answering how it ended as the call that discovered the loss.</summary>
    private async Task<EndedSession?> EndLostNowAsync(SessionLease lease)
    {
        await EndLostAsync([lease]);
        return _state.Entries.TryGetValue(lease.SessionId, out var lost) ? lost with { JustLost = true } : null;
    }

    /// <summary>Whether <paramref name="silo"/> is (still) a member of the cluster, so its activations may be live.</summary>
    private bool IsInCluster(string silo) =>
        membership.CurrentSnapshot.GetSiloStatus(SiloAddress.FromParsableString(silo)) is SiloStatus.Active or SiloStatus.Joining or SiloStatus.ShuttingDown or SiloStatus.Stopping;

    /// <summary>
    /// Leases of dead silos: parked for a restore when <c>Sessions:RestoreOnLoss</c> is on, ended as lost otherwise.
    /// Parked leases nobody came back for within <c>Sessions:IdleTimeoutSeconds</c> (or past their maximum duration) end.
    /// </summary>
    private async Task ReclaimDeadSilosAsync()
    {
        var now = time.GetUtcNow();
        var o = options.CurrentValue;
        var snapshot = membership.CurrentSnapshot;
        // A silo missing from the table is only presumed dead once the lease is old enough that its join was seen.
        var settle = TimeSpan.FromSeconds(2 * o.CleanupIntervalSeconds);
        var dead = S.Leases.Values.Where(l =>
        {
            if (l.Parked)
            {
                return false;
            }

            var status = snapshot.GetSiloStatus(SiloAddress.FromParsableString(l.Silo));
            return status is SiloStatus.Dead || (status is SiloStatus.None && now - l.AcquiredAt > settle);
        }).ToList();
        var abandoned = S.Leases.Values.Where(l => l.ParkedAt is { } parked && (now - parked >= TimeSpan.FromSeconds(o.IdleTimeoutSeconds) || now >= l.ExpiresAt)).ToList();
        if (o.RestoreOnLoss && o.Checkpoints && dead.Count > 0)
        {
            foreach (var lease in dead)
            {
                S.Leases[lease.SessionId] = lease with { ParkedAt = now };
                LogParkedLost(logger, lease.SessionId, lease.ClientId, lease.Silo);
            }

            await _state.WriteAsync();
            dead = [];
        }

        if (dead.Count + abandoned.Count > 0)
        {
            await EndLostAsync([.. dead, .. abandoned]);
        }
    }

    /// <summary>Ends leases whose browser is gone: settles their reservations at the reserved amount and frees the slots.</summary>
    private async Task EndLostAsync(IReadOnlyList<SessionLease> leases)
    {
        foreach (var lease in leases)
        {
            try
            {
                // A drained session that never came back is settled at what it had cost when it was parked; a lost
                // one at what it had reserved (what it ran up since its last checkpoint is unknown).
                await budget.SettleAsync(SessionBilling.Id(lease.SessionId, lease.AcquiredAt), lease.ClientId, lease.AcquiredAt, actualUsd: lease.ParkedCostUsd);
                var reason = lease.ParkedCostUsd is null ? SessionEndReason.Lost : SessionEndReason.Idle;
                S.Leases.Remove(lease.SessionId);
                Remember(lease, reason);
                S.CleanupSucceeded++;
                events.Cleanup(success: true);
                events.SessionEnded(reason, time.GetUtcNow() - lease.AcquiredAt);
                var label = AnchorMetrics.ReasonLabel(reason);
                LogLost(logger, lease.SessionId, lease.ClientId, lease.Silo, label);
                // Its grain could not write it (its silo is gone, or it holds no browser): the timeline still ends.
                _ = timeline.AppendAsync(lease.SessionId, TimelineEntry.Event(time.GetUtcNow(), TimelineEvents.Closed, lease.ClientId, label, $"closed ({label}) by the registry: its silo no longer held it"));
                // One-way: the registry never waits on a session grain (they call it). Its checkpoint is of no use now.
                _ = GrainFactory.GetGrain<IBrowserSessionGrain>(lease.SessionId).DiscardCheckpointAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Keep the lease: the next sweep tries again, so the reservation is settled exactly once, later.
                S.CleanupFailed++;
                events.Cleanup(success: false);
                LogCloseFailed(logger, lease.SessionId, ex);
            }
        }

        await _state.WriteAsync();
        Slots.Grant();
    }

    private void Remember(SessionLease lease, SessionEndReason reason)
    {
        var now = time.GetUtcNow();
        S.EndedByReason[reason] = S.EndedByReason.GetValueOrDefault(reason) + 1;
        S.EndedSeconds += Math.Max(0, (now - lease.AcquiredAt).TotalSeconds);
        _state.Set(lease.SessionId, new EndedSession(lease.SessionId, lease.ClientId, reason, now));
        _endedOrder.Enqueue((lease.SessionId, now));
        Forget(_ => _state.Entries.Count > MaxEndedRemembered);
    }

    /// <summary>Forgets the oldest ended sessions while <paramref name="old"/> holds for the oldest one.</summary>
    private void Forget(Func<(string SessionId, DateTimeOffset EndedAt), bool> old)
    {
        while (_endedOrder.TryPeek(out var oldest) && old(oldest))
        {
            _endedOrder.Dequeue();
            // A session re-leased and ended again has a newer record (and a newer place in the queue): keep that.
            if (_state.Entries.TryGetValue(oldest.SessionId, out var ended) && ended.EndedAt == oldest.EndedAt)
            {
                _state.Remove(oldest.SessionId);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} of {ClientId} (last on silo {Silo}) ended without its browser ({Reason}); slot freed and reservation settled")]
    private static partial void LogLost(ILogger logger, string sessionId, string clientId, string silo, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {ClientId} parked by draining silo {Silo}; its next call restores it on another silo")]
    private static partial void LogParked(ILogger logger, string sessionId, string clientId, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} of {ClientId} lost with silo {Silo}; parked until its next call restores it from its checkpoint")]
    private static partial void LogParkedLost(ILogger logger, string sessionId, string clientId, string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {ClientId} moves from silo {From} to {To}")]
    private static partial void LogResumed(ILogger logger, string sessionId, string clientId, string from, string to);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing session {SessionId} failed")]
    private static partial void LogCloseFailed(ILogger logger, string sessionId, Exception exception);
}
