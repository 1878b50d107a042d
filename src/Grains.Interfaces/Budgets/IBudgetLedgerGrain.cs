using Orleans.Concurrency;

namespace Anchor.Orleans.Grains.Interfaces.Budgets;

/// <summary>
/// The spend of one budget period (key <c>day:2026-11-23</c> or <c>month:2026-11</c>, UTC): global and per-client
/// totals and the open reservation of every session, so one call checks the global and the client limit atomically.
/// Every acknowledged change is durable before the call returns; concurrent changes share one storage write.
/// The next period is another grain, so a reset cannot be missed.
/// </summary>
public interface IBudgetLedgerGrain : IGrainWithStringKey
{
    /// <summary>
    /// Adds <paramref name="amountUsd"/> to the session's reservation unless it would take the period's global
    /// committed spend (spent + reserved) past its limit, or the client's past <paramref name="clientLimitUsd"/>.
    /// </summary>
    Task<ReserveResult> ReserveAsync(string sessionId, string clientId, decimal amountUsd, decimal clientLimitUsd, CancellationToken cancellationToken = default);

    /// <summary>Gives back up to <paramref name="amountUsd"/> of an open reservation (undoes a reservation another period refused).</summary>
    Task ReleaseAsync(string sessionId, decimal amountUsd, CancellationToken cancellationToken = default);

    /// <summary>
    /// Settles the session once: charges <paramref name="actualUsd"/> clamped to [0, reserved] (null = reserved)
    /// and frees the reservation. A session with no open reservation (already settled, never reserved) is a no-op.
    /// </summary>
    Task<SettleResult> SettleAsync(string sessionId, decimal? actualUsd, CancellationToken cancellationToken = default);

    /// <summary>Whether any room is left under the global limit and <paramref name="clientLimitUsd"/>.</summary>
    [ReadOnly]
    Task<LedgerRoom> CheckRoomAsync(string clientId, decimal clientLimitUsd, CancellationToken cancellationToken = default);

    /// <summary>Totals of the period (global and per client), without the per-session records.</summary>
    [ReadOnly]
    Task<LedgerTotals> GetTotalsAsync(CancellationToken cancellationToken = default);

    /// <summary>The period's global totals and only <paramref name="clientId"/>'s (cheap: for receipts and status).</summary>
    [ReadOnly]
    Task<LedgerTotals> GetClientTotalsAsync(string clientId, CancellationToken cancellationToken = default);

    /// <summary>Totals, open reservations and recently settled sessions, for backup (O(period): export only).</summary>
    [ReadOnly]
    Task<LedgerBackup> GetSnapshotAsync(CancellationToken cancellationToken = default);

    /// <summary>Replaces the whole ledger with <paramref name="snapshot"/> (restore from backup).</summary>
    Task RestoreAsync(LedgerBackup snapshot, CancellationToken cancellationToken = default);
}

/// <summary>Every budget period that has ever recorded anything (key 0), so backups can find them all.</summary>
public interface ILedgerIndexGrain : IGrainWithIntegerKey
{
    Task RegisterAsync(string period, CancellationToken cancellationToken = default);

    [ReadOnly]
    Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken = default);
}
