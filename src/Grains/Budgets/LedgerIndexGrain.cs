using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Interfaces.Budgets;

namespace Anchor.Orleans.Grains.Budgets;

/// <summary>The set of periods with a ledger; written only when a period is new (about twice a day).</summary>
public sealed class LedgerIndexGrain(
    [PersistentState("ledger-index", OrleansHostingExtensions.StorageName)] IPersistentState<LedgerIndexState> state) : Grain, ILedgerIndexGrain
{
    public async Task RegisterAsync(string period, CancellationToken cancellationToken = default)
    {
        if (state.State.Periods.Add(period))
        {
            await state.WriteStateAsync(cancellationToken);
        }
    }

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>([.. state.State.Periods.Order(StringComparer.Ordinal)]);
}

[GenerateSerializer, Alias("anchor.LedgerIndexState")]
public sealed class LedgerIndexState
{
    [Id(0)]
    public HashSet<string> Periods { get; set; } = new(StringComparer.Ordinal);
}
