namespace Anchor.Orleans.Grains.Interfaces.Sessions;

/// <summary>Why a session ended (also the <c>reason</c> label of <c>anchor_sessions_ended_total</c>).</summary>
public enum SessionEndReason
{
    /// <summary>Closed by its client.</summary>
    Completed,

    /// <summary>Its browser failed.</summary>
    Failed,

    /// <summary>Reached <c>Sessions:MaxDurationSeconds</c>.</summary>
    TimedOut,

    /// <summary>No call for <c>Sessions:IdleTimeoutSeconds</c>.</summary>
    Idle,

    /// <summary>Closed by emergency shutdown.</summary>
    Emergency,

    /// <summary>Its silo died or left; the browser is gone.</summary>
    Lost,

    /// <summary>Closed by an operator.</summary>
    Operator,

    /// <summary>Closed because its silo is draining for shutdown.</summary>
    Drained,

    /// <summary>Closed because the budget could not cover it any more.</summary>
    Budget,
}

/// <summary>
/// A session as its owner and operators see it. <see cref="Actions"/> counts the actions that answered (and were
/// charged); <see cref="Running"/> names the action running now, if any.
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.SessionInfo")]
public sealed record SessionInfo(
    [property: Id(0)] string SessionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string Silo,
    [property: Id(3)] DateTimeOffset OpenedAt,
    [property: Id(4)] DateTimeOffset ExpiresAt,
    [property: Id(5)] DateTimeOffset LastActivityAt,
    [property: Id(6)] int Actions,
    [property: Id(7)] decimal CostUsd,
    [property: Id(8)] string? Url,
    [property: Id(9)] int Pages = 0,
    [property: Id(10)] string? Running = null);

/// <summary>
/// A slot held in the cluster-wide session registry. A <em>parked</em> lease (<see cref="ParkedAt"/> set) belongs to a
/// session that has no browser now but can be restored from its checkpoint on any silo: its silo drained (and said
/// what it had cost, <see cref="ParkedCostUsd"/>) or died. It still holds its slot.
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.SessionLease")]
public sealed record SessionLease(
    [property: Id(0)] string SessionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string Silo,
    [property: Id(3)] DateTimeOffset AcquiredAt,
    [property: Id(4)] DateTimeOffset ExpiresAt,
    [property: Id(5)] DateTimeOffset? ParkedAt = null,
    [property: Id(6)] decimal? ParkedCostUsd = null)
{
    public bool Parked => ParkedAt is not null;
}

/// <summary>
/// The registry's answer to a session grain that wants to restore a session from its checkpoint: the lease, now held
/// by the asking silo, or how the session ended (<see cref="EndedSession.LiveElsewhere"/>: it is live on another silo).
/// Neither: no such session for this client.
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.SessionResume")]
public sealed record SessionResume(
    [property: Id(0)] SessionLease? Lease,
    [property: Id(1)] EndedSession? Ended);

/// <summary>
/// A session that ended recently, remembered so late calls get <c>session_expired</c>, not <c>session_not_found</c>.
/// <see cref="JustLost"/> is set only on the answer that discovered the loss (its silo died).
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.EndedSession")]
public sealed record EndedSession(
    [property: Id(0)] string SessionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] SessionEndReason Reason,
    [property: Id(3)] DateTimeOffset EndedAt,
    [property: Id(4)] bool JustLost = false,
    [property: Id(5)] bool LiveElsewhere = false);

/// <summary>
/// The answer to a lease request: granted, refused (with when a retry may succeed), or queued for a slot
/// (<see cref="Queued"/>: the caller waits with <c>WaitForSlotAsync</c> and asks again once offered).
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.LeaseResult")]
public sealed record LeaseResult(
    [property: Id(0)] bool Granted,
    [property: Id(1)] string? RefusalCode,
    [property: Id(2)] string? RefusalMessage,
    [property: Id(3)] SessionLease? Lease,
    [property: Id(4)] TimeSpan? RetryAfter = null,
    [property: Id(5)] SlotWait? Queued = null);

/// <summary>Where a request waiting for a session slot stands.</summary>
public enum SlotWaitState
{
    /// <summary>Waiting; <see cref="SlotWait.Position"/> says how many grants come before it.</summary>
    Queued,

    /// <summary>A slot is held for it: open the session now (the offer lapses if not taken promptly).</summary>
    Offered,

    /// <summary>Its wait ended without a slot: refused with <c>concurrency_limit</c>.</summary>
    Expired,

    /// <summary>The registry does not know the request (it moved to another silo, or the offer lapsed): ask again.</summary>
    Unknown,
}

/// <summary>A waiting request's place: 1-based position among <see cref="Waiting"/> requests, until <see cref="Deadline"/>.</summary>
[GenerateSerializer, Immutable, Alias("anchor.SlotWait")]
public sealed record SlotWait(
    [property: Id(0)] SlotWaitState State,
    [property: Id(1)] int Position,
    [property: Id(2)] int Waiting,
    [property: Id(3)] DateTimeOffset Deadline,
    [property: Id(4)] TimeSpan? RetryAfter = null,
    [property: Id(5)] string? RefusalMessage = null);

/// <summary>Counts of the registry's sweeps (cleanup rate is a KPI).</summary>
[GenerateSerializer, Immutable, Alias("anchor.CleanupStats")]
public sealed record CleanupStats(
    [property: Id(0)] long Succeeded,
    [property: Id(1)] long Failed,
    [property: Id(2)] DateTimeOffset? LastSweepAt);

/// <summary>Cluster-wide session counts, from the registry.</summary>
[GenerateSerializer, Immutable, Alias("anchor.SessionStats")]
public sealed record SessionStats(
    [property: Id(0)] long Created,
    [property: Id(1)] int Active,
    [property: Id(2)] IReadOnlyDictionary<SessionEndReason, long> EndedByReason,
    [property: Id(3)] double EndedSeconds,
    [property: Id(4)] CleanupStats Cleanup,
    [property: Id(5)] int Queued = 0);
