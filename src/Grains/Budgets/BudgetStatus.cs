using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Grains.Interfaces.RateLimiting;

namespace Anchor.Orleans.Grains.Budgets;

/// <summary>A client's usage and what it has left (the <c>budget_status</c> tool).</summary>
public sealed record BudgetStatusReport(string ClientId, DateTimeOffset At, RateLimitStatus RateLimit, PeriodBudgetStatus Daily, PeriodBudgetStatus Monthly);

/// <summary>Calls left in the sliding window and when the oldest counted call leaves it.</summary>
public sealed record RateLimitStatus(int Limit, int Remaining, int WindowSeconds, DateTimeOffset? ResetAt, int? RetryAfterSeconds);

/// <summary>
/// One period's budget as the client sees it: its own figures, and whether the cluster-wide budget, not its own, is what
/// limits it now (less left globally than the client has left). The global figures themselves are other tenants'
/// spend, for operators only (<c>GET /api/budget</c>).
/// </summary>
public sealed record PeriodBudgetStatus(string Period, BudgetUsage Client, bool LimitedByCluster);

/// <summary>Spent, reserved (by open sessions), the limit, and what is left: limit − spent − reserved, at least 0.</summary>
public sealed record BudgetUsage(decimal SpentUsd, decimal ReservedUsd, decimal LimitUsd, decimal RemainingUsd)
{
    public static BudgetUsage Of(decimal spent, decimal reserved, decimal limit) => new(spent, reserved, limit, Math.Max(0, limit - spent - reserved));
}

/// <summary>The operators' budget overview (<c>GET /api/budget</c>).</summary>
public sealed record BudgetOverview(DateTimeOffset At, PeriodOverview Daily, PeriodOverview Monthly, decimal MonthEndForecastUsd);

/// <summary>
/// One period: utilization = (spent + reserved) ÷ limit in percent; cost per search = spent ÷ sessions settled
/// (null before the first settlement); per-client spend, largest first.
/// </summary>
public sealed record PeriodOverview(
    string Period,
    decimal SpentUsd,
    decimal ReservedUsd,
    decimal LimitUsd,
    decimal UtilizationPercent,
    long SessionsSettled,
    decimal? CostPerSearchUsd,
    IReadOnlyList<ClientSpend> Clients);

public sealed record ClientSpend(string ClientId, decimal SpentUsd, decimal ReservedUsd, long SessionsSettled);

/// <summary>Reads the ledgers and rate limiters for reports; never changes them.</summary>
public sealed class BudgetStatus(IGrainFactory grains, TimeProvider time)
{
    public async Task<BudgetStatusReport> GetForClientAsync(ClientPolicy client, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var rate = grains.GetGrain<IClientRateLimiterGrain>(client.ClientId).PeekAsync(client.MaxRequests, client.WindowSeconds, cancellationToken);
        var budgets = GetBudgetsAsync(client, now, cancellationToken);
        var r = await rate;
        var (daily, monthly) = await budgets;
        return new BudgetStatusReport(
            client.ClientId,
            now,
            new RateLimitStatus(r.Limit, r.Remaining, r.WindowSeconds, r.ResetAt, r.Allowed ? null : Admission.GovernedToolAdmission.RetryAfterSeconds(r.RetryAfter)),
            daily,
            monthly);
    }

    /// <summary>The client's day and month as the ledgers hold them now (what a receipt reports).</summary>
    public async Task<(PeriodBudgetStatus Daily, PeriodBudgetStatus Monthly)> GetBudgetsAsync(ClientPolicy client, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var day = Ledger(BudgetPeriods.Day(now)).GetClientTotalsAsync(client.ClientId, cancellationToken);
        var month = Ledger(BudgetPeriods.Month(now)).GetClientTotalsAsync(client.ClientId, cancellationToken);
        return (ForClient(await day, client.ClientId, client.DailyLimitUsd), ForClient(await month, client.ClientId, client.MonthlyLimitUsd));
    }

    public async Task<BudgetOverview> GetOverviewAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var day = Ledger(BudgetPeriods.Day(now)).GetTotalsAsync(cancellationToken);
        var month = Ledger(BudgetPeriods.Month(now)).GetTotalsAsync(cancellationToken);
        var monthly = Overview(await month);
        return new BudgetOverview(now, Overview(await day), monthly, Forecast(monthly.SpentUsd, now));
    }

    /// <summary>
    /// Month-end forecast from the month's run rate: spent ÷ elapsed days × days in the month, with elapsed days
    /// counted fractionally and at least one, so the first hours of a month do not extrapolate wildly.
    /// </summary>
    public static decimal Forecast(decimal monthSpentUsd, DateTimeOffset now)
    {
        var start = BudgetPeriods.MonthStart(now);
        var elapsedDays = Math.Max(1m, (decimal)(now - start).TotalDays);
        var daysInMonth = DateTime.DaysInMonth(start.Year, start.Month);
        return Math.Round(monthSpentUsd / elapsedDays * daysInMonth, 4, MidpointRounding.AwayFromZero);
    }

    private IBudgetLedgerGrain Ledger(string period) => grains.GetGrain<IBudgetLedgerGrain>(period);

    private static PeriodBudgetStatus ForClient(LedgerTotals totals, string clientId, decimal clientLimit)
    {
        var mine = totals.Clients.GetValueOrDefault(clientId) ?? new ClientTotals(0, 0, 0);
        var own = BudgetUsage.Of(mine.SpentUsd, mine.ReservedUsd, clientLimit);
        return new PeriodBudgetStatus(totals.Period, own, BudgetUsage.Of(totals.SpentUsd, totals.ReservedUsd, totals.LimitUsd).RemainingUsd < own.RemainingUsd);
    }

    private static PeriodOverview Overview(LedgerTotals t) => new(
        t.Period,
        t.SpentUsd,
        t.ReservedUsd,
        t.LimitUsd,
        t.LimitUsd == 0 ? 0 : Math.Round((t.SpentUsd + t.ReservedUsd) * 100 / t.LimitUsd, 2, MidpointRounding.AwayFromZero),
        t.SessionsSettled,
        t.SessionsSettled == 0 ? null : Math.Round(t.SpentUsd / t.SessionsSettled, 6, MidpointRounding.AwayFromZero),
        [.. t.Clients
            .Select(c => new ClientSpend(c.Key, c.Value.SpentUsd, c.Value.ReservedUsd, c.Value.SessionsSettled))
            .OrderByDescending(c => c.SpentUsd)
            .ThenBy(c => c.ClientId, StringComparer.Ordinal)]);
}
