namespace Anchor.Orleans.Grains.Operations;

/// <summary>Current spend for the operations snapshot; the budgets feature provides it.</summary>
public interface ISpendSnapshotSource
{
    Task<SpendSnapshot> GetAsync(CancellationToken cancellationToken = default);
}

/// <summary>Spend now; cost per search is the month's spend ÷ sessions settled this month (a session is one search task).</summary>
public sealed record SpendSnapshot(decimal DailySpendUsd, decimal MonthlySpendUsd, double DailyUtilization, double MonthlyUtilization, decimal? CostPerSearchUsd);
