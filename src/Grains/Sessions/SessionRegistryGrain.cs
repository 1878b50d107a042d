using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Persistence;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions.Queueing;
using Anchor.Orleans.Grains.Telemetry;
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
    TimeProvider time,
    ILogger<SessionRegistryGrain> logger) : Grain, ISessionRegistryGrain
{
    /// <summary>How long ended sessions are remembered for <c>session_expired</c> answers.</summary>
    public static readonly TimeSpan EndedRetention = TimeSpan.FromHours(1);

    /// <summary>How long a slot offered to a waiter stays held for it; its front claims it at once unless it is gone.</summary>
    public static readonly TimeSpan OfferClaimWindow = TimeSpan.FromSeconds(10);

    /// <summary>A waiter with no poll under way for this long is gone (its front died or gave up) and is dropped.</summary>
    public static readonly TimeSpan WaiterStaleAfter = TimeSpan.FromSeconds(10);

    private const int MaxEndedRemembered = 10_000;

    private readonly EntryState<SessionRegistryState, EndedSession> _state = new(store, serializer, "session-registry");

    // Ended sessions oldest first, so forgetting them costs O(forgotten), not a sort of all remembered.
    private readonly Queue<(string SessionId, DateTimeOffset EndedAt)> _endedOrder = new();

    // Requests waiting for a slot and slots offered to them: memory only. A registry that moves loses them, and its
    // waiters, told Unknown at their next poll, queue again; slots are only ever held by leases and live offers.
    private readonly FairQueue<SlotWaiter> _queue = new(w => w.SessionId, w => w.ClientId);
    private readonly Dictionary<string, SlotOffer> _offers = new(StringComparer.Ordinal);
    private TaskCompletionSource _queueChanged = NewSignal();

    private SessionRegistryState S => _state.Head;

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
            return existing.ClientId == clientId
                ? new LeaseResult(true, null, null, existing)
                : new LeaseResult(false, ErrorCodes.SessionNotFound, $"session_not_found: no session '{sessionId}' for this client.", null);
        }

        var o = options.CurrentValue;
        var now = time.GetUtcNow();
        Grant();
        if (_offers.Remove(sessionId, out var offer) && offer.ClientId != clientId)
        {
            _offers[sessionId] = offer;
            return new LeaseResult(false, ErrorCodes.SessionNotFound, $"session_not_found: no session '{sessionId}' for this client.", null);
        }

        if (offer is null)
        {
            if (_queue.Find(sessionId) is { } waiting)
            {
                if (waiting.ClientId != clientId)
                {
                    return new LeaseResult(false, ErrorCodes.SessionNotFound, $"session_not_found: no session '{sessionId}' for this client.", null);
                }

                return new LeaseResult(false, ErrorCodes.ConcurrencyLimit, null, null, Queued: WaitOf(waiting, SlotWaitState.Queued));
            }

            if (Held() >= o.MaxConcurrent)
            {
                // A dead silo's leases may still be counted: reclaim them before refusing.
                await ReclaimDeadSilosAsync();
            }

            var mine = HeldBy(clientId);
            if (mine + _queue.CountOf(clientId) >= maxPerClient)
            {
                return new LeaseResult(false, ErrorCodes.ConcurrencyLimit, $"concurrency_limit: this client has {mine} of {maxPerClient} sessions open{WaitingNote(clientId)}; close one (browser_session_close) first.", null, RetryAfter(clientId));
            }

            if (Held() >= o.MaxConcurrent)
            {
                if (o.QueueTimeoutSeconds == 0)
                {
                    var retry = RetryAfter(null);
                    return new LeaseResult(false, ErrorCodes.ConcurrencyLimit, $"concurrency_limit: {Held()} of {o.MaxConcurrent} browser sessions are open cluster-wide; close one (browser_session_close) or retry after {Seconds(retry)} s.", null, retry);
                }

                var waiter = new SlotWaiter(sessionId, clientId, maxPerClient, now.AddSeconds(o.QueueTimeoutSeconds), now);
                _queue.Enqueue(waiter);
                LogQueued(logger, sessionId, clientId, _queue.PositionOf(sessionId), _queue.Count);
                Signal();
                return new LeaseResult(false, ErrorCodes.ConcurrencyLimit, null, null, Queued: WaitOf(waiter, SlotWaitState.Queued));
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

            Grant();
            throw;
        }

        return new LeaseResult(true, null, null, lease);
    }

    public async Task<SlotWait> WaitForSlotAsync(string sessionId, string clientId, int knownPosition, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        // Interleaved: every step between awaits is synchronous and leaves the queue consistent.
        Grant();
        if (!IsWaitOf(sessionId, clientId))
        {
            // Another client's request (or none): nothing about it is told, and polling it keeps nothing alive.
            return new SlotWait(SlotWaitState.Unknown, 0, _queue.Count, time.GetUtcNow());
        }

        if (Answer(sessionId) is { } settled)
        {
            return settled;
        }

        var waiter = _queue.Find(sessionId)!;
        waiter.LastSeen = time.GetUtcNow();
        if (_queue.PositionOf(sessionId) != knownPosition)
        {
            return WaitOf(waiter, SlotWaitState.Queued);
        }

        var wait = Min(maxWait, waiter.Deadline - time.GetUtcNow());
        waiter.Polling++;
        try
        {
            // Wakes on any change of the queue (a grant, a leaver), so positions are reported as they move.
            await _queueChanged.Task.WaitAsync(wait, time, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            waiter.Polling--;
            waiter.LastSeen = time.GetUtcNow();
        }

        Grant();
        return Answer(sessionId) ?? WaitOf(waiter, SlotWaitState.Queued);
    }

    public Task LeaveQueueAsync(string sessionId, string clientId)
    {
        if (!IsWaitOf(sessionId, clientId))
        {
            return Task.CompletedTask;
        }

        var left = _queue.Remove(sessionId) | _offers.Remove(sessionId);
        if (left)
        {
            Signal();
            Grant();
        }

        return Task.CompletedTask;
    }

    public async Task ReleaseAsync(string sessionId, SessionEndReason reason)
    {
        if (S.Leases.Remove(sessionId, out var lease))
        {
            Remember(lease, reason);
            await _state.WriteAsync();
            Grant();
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
            Grant();
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
        Task.FromResult(new SessionStats(S.Created, S.Leases.Count, new Dictionary<SessionEndReason, long>(S.EndedByReason), S.EndedSeconds, Stats()));

    private CleanupStats Stats() => new(S.CleanupSucceeded, S.CleanupFailed, S.LastSweepAt);

    /// <summary>How <paramref name="clientId"/>'s session ended, if it did recently; another client's ended session is not told.</summary>
    private EndedSession? EndedOf(string sessionId, string clientId) =>
        _state.Entries.GetValueOrDefault(sessionId) is { } ended && ended.ClientId == clientId ? ended : null;

    /// <summary>
    /// Whether whatever <paramref name="sessionId"/> names here (a waiter, an offer, a lease) is <paramref name="clientId"/>'s;
    /// true when it names nothing.
    /// </summary>
    private bool IsWaitOf(string sessionId, string clientId) =>
        _queue.Find(sessionId) is { } waiter ? waiter.ClientId == clientId
        : _offers.TryGetValue(sessionId, out var offer) ? offer.ClientId == clientId
        : !S.Leases.TryGetValue(sessionId, out var lease) || lease.ClientId == clientId;

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
                LogLost(logger, lease.SessionId, lease.ClientId, lease.Silo, AnchorMetrics.ReasonLabel(reason));
                // One-way: the registry never waits on a session grain (they call it). Its checkpoint is of no use now.
                _ = GrainFactory.GetGrain<IBrowserSessionGrain>(lease.SessionId).DiscardCheckpointAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Keep the lease: the next sweep tries again, so the reservation is settled exactly once, later.
                S.CleanupFailed++;
                events.Cleanup(success: false);
                LogCloseFailed(logger, lease.SessionId, ex.GetType().Name);
            }
        }

        await _state.WriteAsync();
        Grant();
    }

    /// <summary>Slots taken: open leases and slots offered to waiters.</summary>
    private int Held() => S.Leases.Count + _offers.Count;

    private int HeldBy(string clientId) =>
        S.Leases.Values.Count(l => l.ClientId == clientId) + _offers.Values.Count(o => o.ClientId == clientId);

    /// <summary>
    /// Lapses offers nobody took and drops waiters that stopped asking or outlived their deadline, then offers free
    /// slots to waiters in fair order (skipping those at their client's cap). Synchronous: safe to interleave.
    /// </summary>
    private void Grant()
    {
        var now = time.GetUtcNow();
        var changed = false;
        foreach (var (id, offer) in _offers.Where(o => now >= o.Value.ExpiresAt).ToList())
        {
            _offers.Remove(id);
            changed = true;
            LogOfferLapsed(logger, id, offer.ClientId);
        }

        foreach (var gone in _queue.InServiceOrder().Where(w => (w.Polling == 0 && now - w.LastSeen >= WaiterStaleAfter) || now >= w.Deadline + WaiterStaleAfter).ToList())
        {
            _queue.Remove(gone.SessionId);
            changed = true;
        }

        var max = options.CurrentValue.MaxConcurrent;
        while (Held() < max && _queue.Dequeue(w => HeldBy(w.ClientId) < w.MaxPerClient) is { } next)
        {
            _offers[next.SessionId] = new SlotOffer(next.ClientId, now + OfferClaimWindow);
            changed = true;
            LogOffered(logger, next.SessionId, next.ClientId);
        }

        if (changed)
        {
            Signal();
        }
    }

    /// <summary>The answer for a request that is no longer simply waiting; null while it waits.</summary>
    private SlotWait? Answer(string sessionId)
    {
        var now = time.GetUtcNow();
        if (_offers.ContainsKey(sessionId) || S.Leases.ContainsKey(sessionId))
        {
            return new SlotWait(SlotWaitState.Offered, 0, _queue.Count, now);
        }

        if (_queue.Find(sessionId) is not { } waiter)
        {
            return new SlotWait(SlotWaitState.Unknown, 0, _queue.Count, now);
        }

        if (now < waiter.Deadline)
        {
            return null;
        }

        _queue.Remove(sessionId);
        Signal();
        var o = options.CurrentValue;
        var retry = RetryAfter(null);
        var waited = Seconds(waiter.Deadline - waiter.EnqueuedAt);
        return new SlotWait(SlotWaitState.Expired, 0, _queue.Count, waiter.Deadline, retry,
            $"concurrency_limit: no browser session slot came free in {waited} s ({Held()} of {o.MaxConcurrent} open cluster-wide, {_queue.Count} waiting); retry after {Seconds(retry)} s.");
    }

    private SlotWait WaitOf(SlotWaiter waiter, SlotWaitState state) =>
        new(state, _queue.PositionOf(waiter.SessionId), _queue.Count, waiter.Deadline);

    private string WaitingNote(string clientId) => _queue.CountOf(clientId) is > 0 and var n ? $" and {n} waiting" : "";

    /// <summary>
    /// When a retry can expect a slot: the soonest an open lease (the client's own, for its cap) reaches its maximum
    /// duration — a slot frees then at the latest. At least one second.
    /// </summary>
    private TimeSpan RetryAfter(string? clientId)
    {
        var now = time.GetUtcNow();
        var soonest = S.Leases.Values.Where(l => clientId is null || l.ClientId == clientId).Select(l => l.ExpiresAt - now).DefaultIfEmpty(OfferClaimWindow).Min();
        return soonest < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : soonest;
    }

    private static int Seconds(TimeSpan span) => Math.Max(1, (int)Math.Ceiling(span.TotalSeconds));

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? (a < TimeSpan.Zero ? TimeSpan.Zero : a) : (b < TimeSpan.Zero ? TimeSpan.Zero : b);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Wakes every waiting poll (positions moved or a slot was offered).</summary>
    private void Signal() => Interlocked.Exchange(ref _queueChanged, NewSignal()).TrySetResult();

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

    /// <summary>A request waiting for a slot (memory only).</summary>
    private sealed class SlotWaiter(string sessionId, string clientId, int maxPerClient, DateTimeOffset deadline, DateTimeOffset now)
    {
        public string SessionId { get; } = sessionId;

        public string ClientId { get; } = clientId;

        public int MaxPerClient { get; } = maxPerClient;

        public DateTimeOffset EnqueuedAt { get; } = now;

        public DateTimeOffset Deadline { get; } = deadline;

        /// <summary>When its last poll ended; with no poll under way for <see cref="WaiterStaleAfter"/>, it is gone.</summary>
        public DateTimeOffset LastSeen { get; set; } = now;

        public int Polling { get; set; }
    }

    private sealed record SlotOffer(string ClientId, DateTimeOffset ExpiresAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {ClientId} queued for a slot at position {Position} of {Waiting}")]
    private static partial void LogQueued(ILogger logger, string sessionId, string clientId, int position, int waiting);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slot offered to queued session {SessionId} of {ClientId}")]
    private static partial void LogOffered(ILogger logger, string sessionId, string clientId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slot offered to session {SessionId} of {ClientId} lapsed untaken; offered to the next waiter")]
    private static partial void LogOfferLapsed(ILogger logger, string sessionId, string clientId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} of {ClientId} (last on silo {Silo}) ended without its browser ({Reason}); slot freed and reservation settled")]
    private static partial void LogLost(ILogger logger, string sessionId, string clientId, string silo, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {ClientId} parked by draining silo {Silo}; its next call restores it on another silo")]
    private static partial void LogParked(ILogger logger, string sessionId, string clientId, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} of {ClientId} lost with silo {Silo}; parked until its next call restores it from its checkpoint")]
    private static partial void LogParkedLost(ILogger logger, string sessionId, string clientId, string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {ClientId} moves from silo {From} to {To}")]
    private static partial void LogResumed(ILogger logger, string sessionId, string clientId, string from, string to);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing session {SessionId} failed: {Error}")]
    private static partial void LogCloseFailed(ILogger logger, string sessionId, string error);
}
