namespace Anchor.Orleans.Grains.Interfaces.Sessions;

/// <summary>
/// One browser session (key = session id). Owns one Playwright browser context on the silo where it is
/// active. Every call names the calling client; a session answers only its owner.
/// </summary>
public interface IBrowserSessionGrain : IGrainWithStringKey
{
    /// <summary>Opens the session for <paramref name="clientId"/>: takes a registry lease, reserves budget, opens a context.</summary>
    Task<SessionInfo> OpenAsync(string clientId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="action"/>. With <paramref name="openIfNeeded"/> (the client's default session) a
    /// session that is not open is opened first; otherwise it answers <c>session_not_found</c> or <c>session_expired</c>.
    /// </summary>
    Task<ActionResult> ExecuteAsync(string clientId, BrowserAction action, bool openIfNeeded = false, CancellationToken cancellationToken = default);

    /// <summary>The session's state, if <paramref name="clientId"/> owns it (null for operators' calls means any owner).</summary>
    Task<SessionInfo?> GetInfoAsync(string? clientId);

    /// <summary>Closes the context, settles the cost and releases the lease. Idempotent. Null client = operator/system.</summary>
    Task<bool> CloseAsync(string? clientId, SessionEndReason reason);
}

/// <summary>
/// The cluster-wide session registry (one activation, key 0): leases against <c>Sessions:MaxConcurrent</c>
/// and per-client caps, recently ended sessions, and the sweep that frees slots of dead silos.
/// </summary>
public interface ISessionRegistryGrain : IGrainWithIntegerKey
{
    Task<LeaseResult> AcquireAsync(string sessionId, string clientId, string silo, int maxPerClient, CancellationToken cancellationToken = default);

    /// <summary>Frees the lease and remembers the session as ended.</summary>
    Task ReleaseAsync(string sessionId, SessionEndReason reason);

    Task<IReadOnlyList<SessionLease>> ListAsync(string? clientId = null);

    /// <summary>How a session that is not open ended, if it ended recently.</summary>
    Task<EndedSession?> GetEndedAsync(string sessionId);

    /// <summary>Closes every open session (emergency shutdown, drain of a silo when <paramref name="silo"/> is set).</summary>
    Task<int> CloseAllAsync(SessionEndReason reason, string? silo = null);

    /// <summary>Runs a sweep now (also runs every <c>Sessions:CleanupIntervalSeconds</c>).</summary>
    Task<CleanupStats> SweepAsync();

    Task<CleanupStats> GetCleanupStatsAsync();

    /// <summary>Sessions opened, open now and ended by reason since the registry began.</summary>
    Task<SessionStats> GetStatsAsync();
}
