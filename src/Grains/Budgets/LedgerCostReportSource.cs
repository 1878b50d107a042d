using Anchor.Orleans.Grains.Alerts.Reports;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Grains.Interfaces.Operations;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Budgets;

/// <summary>The daily cost report's figures, from the day's and the month's ledgers.</summary>
public sealed class LedgerCostReportSource(IGrainFactory grains, IOptionsMonitor<BudgetOptions> budget) : ICostReportSource
{
    public async Task<DailyCostReport?> GetDailyReportAsync(DateOnly day, CancellationToken cancellationToken = default)
    {
        var at = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var daily = await grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Day(at)).GetTotalsAsync(cancellationToken);
        var monthly = await grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Month(at)).GetTotalsAsync(cancellationToken);
        if (daily.SpentUsd == 0 && daily.ReservedUsd == 0 && daily.SessionsSettled == 0)
        {
            return null;
        }

        // Tool calls are counted since the stats began, not per day: the report carries the cluster total.
        var operations = await grains.GetGrain<IOperationsStatsGrain>(0).GetAsync();
        return new DailyCostReport(
            day,
            daily.SpentUsd,
            budget.CurrentValue.DailyLimitUsd,
            monthly.SpentUsd,
            budget.CurrentValue.MonthlyLimitUsd,
            daily.SessionsSettled,
            operations.ToolCalls,
            [.. daily.Clients.OrderByDescending(c => c.Value.SpentUsd).Take(5).Select(c => new Alerts.Reports.ClientSpend(c.Key, c.Value.SpentUsd))]);
    }
}
