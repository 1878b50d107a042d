namespace Anchor.Orleans.Grains.Budgets;

/// <summary>
/// How a session pays: it reserves before it spends (at open, and again whenever its accrued cost would pass
/// what it holds) and settles once when it ends. A session is billed to the UTC day and month it opened in.
/// </summary>
public interface ISessionBudget
{
    /// <summary>Adds <paramref name="amountUsd"/> to the session's reservation, or throws <c>budget_exceeded</c> naming the budget.</summary>
    Task ReserveAsync(string sessionId, string clientId, DateTimeOffset openedAt, decimal amountUsd, CancellationToken cancellationToken = default);

    /// <summary>
    /// Settles the session exactly once (later calls are no-ops). <paramref name="actualUsd"/> is clamped to what
    /// was reserved; null settles at the reserved amount (the session was lost with its silo and its cost is unknown).
    /// </summary>
    Task SettleAsync(string sessionId, string clientId, DateTimeOffset openedAt, decimal? actualUsd, CancellationToken cancellationToken = default);
}

/// <summary>
/// The reservation id of one opening of a session. A session id can open again (the client's default session
/// does after it ended), and each opening is billed and settled on its own, so the id carries the opening time.
/// </summary>
public static class SessionBilling
{
    public static string Id(string sessionId, DateTimeOffset openedAt) =>
        $"{sessionId}@{openedAt.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}
