using Anchor.Orleans.Grains.Operations;

namespace Anchor.Orleans.Grains.Budgets;

/// <summary>Today's and this month's spend from the ledgers, for the operations snapshot.</summary>
public sealed class LedgerSpendSnapshot(BudgetStatus budgets) : ISpendSnapshotSource
{
    public async Task<SpendSnapshot> GetAsync(CancellationToken cancellationToken = default)
    {
        var overview = await budgets.GetOverviewAsync(cancellationToken);
        return new SpendSnapshot(
            overview.Daily.SpentUsd,
            overview.Monthly.SpentUsd,
            (double)overview.Daily.UtilizationPercent / 100,
            (double)overview.Monthly.UtilizationPercent / 100,
            overview.Monthly.CostPerSearchUsd);
    }
}
