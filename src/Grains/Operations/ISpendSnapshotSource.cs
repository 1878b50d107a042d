namespace Anchor.Orleans.Grains.Operations;

/// <summary>Current spend for the operations snapshot; the budgets feature provides it.</summary>
public interface ISpendSnapshotSource
{
    Task<SpendSnapshot> GetAsync(CancellationToken cancellationToken = default);
}

public sealed record SpendSnapshot(decimal DailySpendUsd, decimal MonthlySpendUsd, double DailyUtilization, double MonthlyUtilization);
