using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Interfaces.Operations;

namespace Anchor.Orleans.Grains.Operations;

[GenerateSerializer, Alias("anchor.OperationsStatsState")]
public sealed class OperationsStatsState
{
    [Id(0)]
    public OperationsCounts Totals { get; set; } = OperationsCounts.Zero;
}

/// <summary>Sums the silos' flushes; persisted so the operations snapshot survives restarts.</summary>
public sealed class OperationsStatsGrain(
    [PersistentState("operations-stats", OrleansHostingExtensions.StorageName)] IPersistentState<OperationsStatsState> state)
    : Grain, IOperationsStatsGrain
{
    public async Task AddAsync(OperationsCounts delta)
    {
        if (delta.IsZero)
        {
            return;
        }

        state.State.Totals = state.State.Totals.Add(delta);
        await state.WriteStateAsync();
    }

    public Task<OperationsCounts> GetAsync() => Task.FromResult(state.State.Totals);
}
