using Orleans.Concurrency;

namespace Anchor.Orleans.Grains.Interfaces.Sessions;

/// <summary>
/// One browser session (key = session id). Owns one Playwright browser context on the silo where it is
/// active. Every call names the calling client; a session answers only its owner.
/// </summary>
public interface IBrowserSessionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Opens the session for <paramref name="clientId"/>: takes a registry lease, reserves budget, opens a context —
    /// with the cookies and storage of the client's saved <paramref name="profile"/>, when named.
    /// </summary>
    [ResponseTimeout(ActionCallTimeout.Value)]
    Task<SessionInfo> OpenAsync(string clientId, string? profile = null, CancellationToken cancellationToken = default);

    /// <summary>Saves the session's cookies and localStorage as the owner's profile <paramref name="name"/>.</summary>
    [ResponseTimeout(ActionCallTimeout.Value)]
    Task<Profiles.ProfileInfo> SaveProfileAsync(string clientId, string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="action"/>. With <paramref name="openIfNeeded"/> (the client's default session) a
    /// session that is not open is opened first; otherwise it answers <c>session_not_found</c> or <c>session_expired</c>.
    /// <paramref name="progress"/>, when given, hears of each step of a task as it finishes. Cancelling
    /// <paramref name="cancellationToken"/> (Orleans carries it to the session's silo) interrupts the action.
    /// </summary>
    [ResponseTimeout(ActionCallTimeout.Value)]
    Task<ActionResult> ExecuteAsync(string clientId, BrowserAction action, bool openIfNeeded = false, IActionProgress? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// The session's state, if <paramref name="clientId"/> owns it (null for operators' calls means any owner).
    /// Interleaves: it answers while an action runs.
    /// </summary>
    [AlwaysInterleave]
    Task<SessionInfo?> GetInfoAsync(string? clientId);

    /// <summary>
    /// Closes the context, settles the cost and releases the lease. Idempotent. Null client = operator/system. The close
    /// that ended the session reports what the settlement charged beyond the actions already charged (its minutes).
    /// Interleaves: it interrupts a running action instead of queueing behind it.
    /// </summary>
    [AlwaysInterleave]
    Task<SessionClose> CloseAsync(string? clientId, SessionEndReason reason);

    /// <summary>
    /// Moves the session off this silo (it drains): lets a running action finish, writes a last checkpoint, parks the
    /// lease and closes the browser context without ending the session. The next call restores it on another silo.
    /// False when there was nothing to move (not open here) or the checkpoint could not be written (then it stays open).
    /// </summary>
    [ResponseTimeout(ActionCallTimeout.Value)]
    Task<bool> SuspendAsync();

    /// <summary>Forgets the session's checkpoint (the registry ended a parked session that never came back).</summary>
    [OneWay]
    Task DiscardCheckpointAsync();

    /// <summary>
    /// Frames of the session's current tab while enumerated (a screencast runs only while someone watches); ends when
    /// the session ends. For live links only, checked by the caller. Interleaves with running actions.
    /// </summary>
    [AlwaysInterleave]
    IAsyncEnumerable<Live.LiveFrame> WatchAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// A person (or a hand-off waiting for one, until <paramref name="until"/>) takes (<paramref name="held"/>) or releases
    /// control, a hand-off ending with <paramref name="outcome"/>; false when the session is not open here or another holds it.
    /// </summary>
    [AlwaysInterleave]
    Task<bool> SetControlAsync(string holder, bool held, DateTimeOffset? until = null, string? outcome = null, CancellationToken cancellationToken = default);

    /// <summary>Dispatches a controlling person's mouse, wheel or key event to the current tab.</summary>
    [AlwaysInterleave]
    Task<bool> LiveInputAsync(Live.LiveInput input, CancellationToken cancellationToken = default);
}

/// <summary>
/// The cluster-wide session registry (one activation, key 0): leases against <c>Sessions:MaxConcurrent</c>
/// and per-client caps, recently ended sessions, and the sweep that frees slots of dead silos.
/// </summary>
public interface ISessionRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Takes a slot for the session: granted at once when one is free (or was offered to this session), refused at
    /// the client's cap, otherwise queued fairly (round-robin across clients, FIFO within one) for up to
    /// <c>Sessions:QueueTimeoutSeconds</c> — or refused at once when that is 0.
    /// </summary>
    Task<LeaseResult> AcquireAsync(string sessionId, string clientId, string silo, int maxPerClient, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits up to <paramref name="maxWait"/> (keep it well under the grain response timeout) for a queued request's
    /// turn, answering at once when its position is not <paramref name="knownPosition"/> and early when it changes.
    /// Interleaves: waiters never hold the registry. A waiter that stops asking is dropped, and a slot offered to it
    /// lapses, so a vanished waiter never holds a slot. Another client's request is <see cref="SlotWaitState.Unknown"/> to it.
    /// </summary>
    [AlwaysInterleave]
    Task<SlotWait> WaitForSlotAsync(string sessionId, string clientId, int knownPosition, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>Withdraws <paramref name="clientId"/>'s queued request (its caller gave up); a slot offered to it goes to the next waiter.</summary>
    Task LeaveQueueAsync(string sessionId, string clientId);

    /// <summary>Frees the lease and remembers the session as ended.</summary>
    Task ReleaseAsync(string sessionId, SessionEndReason reason);

    /// <summary>
    /// Parks a session's lease: its silo drains, the session was checkpointed and its browser closed; it keeps its slot
    /// and, if it never comes back, is settled at <paramref name="costUsd"/> once it has been parked for
    /// <c>Sessions:IdleTimeoutSeconds</c>.
    /// </summary>
    Task ParkAsync(string sessionId, decimal costUsd);

    /// <summary>
    /// Hands the lease of a checkpointed session to <paramref name="silo"/>, which restores it: granted when the lease
    /// is parked, or its silo is dead and <c>Sessions:RestoreOnLoss</c> is on. A lease whose silo is still in the
    /// cluster answers <see cref="EndedSession.LiveElsewhere"/>; a lost session that may not be restored is ended.
    /// </summary>
    Task<SessionResume> ResumeAsync(string sessionId, string clientId, string silo);

    Task<IReadOnlyList<SessionLease>> ListAsync(string? clientId = null);

    /// <summary>
    /// How a session that is not open ended, if it ended recently. Asked by an activation on
    /// <paramref name="askingSilo"/> that holds no browser: a lease held by another silo that is still in the cluster
    /// means the caller is a stray activation (the grain directory was moving) and the session lives on there
    /// (<see cref="EndedSession.LiveElsewhere"/>); a lease of a dead silo, or of the asking silo, is ended as lost.
    /// Only for <paramref name="clientId"/>'s own session: another client's, live or ended, answers null and is left alone.
    /// </summary>
    Task<EndedSession?> GetEndedAsync(string sessionId, string clientId, string? askingSilo = null);

    /// <summary>
    /// Ends leases whose sessions could not be closed (their grain did not answer): frees the slots and settles
    /// at the reserved amount. Returns how many it ended. The registry never calls session grains itself —
    /// they call it back on close, which would deadlock a non-reentrant registry.
    /// </summary>
    Task<int> ForceEndAsync(IReadOnlyList<string> sessionIds, SessionEndReason reason);

    /// <summary>
    /// Sweeps: ends leases of dead silos (settling them) and forgets old ended sessions. Returns the leases past
    /// their maximum duration, for the caller to close through their grains.
    /// </summary>
    Task<IReadOnlyList<SessionLease>> SweepAsync();

    /// <summary>Counts closes done on the registry's behalf (sweeps, emergency shutdown) in the cleanup stats.</summary>
    Task ReportCleanupAsync(int succeeded, int failed);

    Task<CleanupStats> GetCleanupStatsAsync();

    /// <summary>Sessions opened, open now and ended by reason since the registry began.</summary>
    Task<SessionStats> GetStatsAsync();
}

/// <summary>
/// No slot was free: the session's open is queued in the registry. The caller (the front that holds the agent's
/// request) waits with <see cref="ISessionRegistryGrain.WaitForSlotAsync"/> and calls again once offered.
/// </summary>
[GenerateSerializer, Alias("anchor.SessionQueuedException")]
public sealed class SessionQueuedException : Exception
{
    public SessionQueuedException(string sessionId, SlotWait wait)
        : base($"Session '{sessionId}' is queued for a slot at position {wait.Position}.")
    {
        SessionId = sessionId;
        Wait = wait;
    }

    public SessionQueuedException()
    {
    }

    public SessionQueuedException(string message)
        : base(message)
    {
    }

    public SessionQueuedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    [Id(0)]
    public string SessionId { get; init; } = "";

    [Id(1)]
    public SlotWait? Wait { get; init; }
}

/// <summary>
/// A call reached an activation of a session that lives on another silo (the grain directory was being handed over,
/// e.g. while a silo drained). Transient: the caller retries and reaches the live activation.
/// </summary>
[GenerateSerializer, Alias("anchor.SessionElsewhereException")]
public sealed class SessionElsewhereException : Exception
{
    public SessionElsewhereException(string sessionId)
        : base($"Session '{sessionId}' is live on another silo; retry.")
    {
    }

    public SessionElsewhereException()
    {
    }

    public SessionElsewhereException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
