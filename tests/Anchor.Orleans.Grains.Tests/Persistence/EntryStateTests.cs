using Anchor.Orleans.Grains.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Anchor.Orleans.Grains.Tests.Persistence;

/// <summary>What <see cref="EntryState{THead, TEntry}"/> sends: only changed entries, and again after a failed write.</summary>
public sealed class EntryStateTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
    private static readonly GrainId Grain = GrainId.Create("test", "entry-state");

    [Fact]
    public async Task Write_SendsOnlyTheEntriesChangedSinceTheLastWrite()
    {
        var store = new FlakyStore(new MemoryEntryStateStore());
        var state = new EntryState<Counter, Counter>(store, Serializer, "t");
        await state.ReadAsync(Grain, Ct);
        state.Set("a", new Counter { Value = 1 });
        state.Set("b", new Counter { Value = 2 });
        await state.WriteAsync(Ct);

        state.Head.Value = 7;
        state.Remove("a");
        await state.WriteAsync(Ct);

        Assert.Equal(["a", "b"], store.Writes[0].Changes.Select(c => c.Key).Order());
        Assert.Equal([("a", true)], store.Writes[1].Changes.Select(c => (c.Key, c.Value is null)));
        var reread = new EntryState<Counter, Counter>(store, Serializer, "t");
        await reread.ReadAsync(Grain, Ct);
        Assert.Equal(7, reread.Head.Value);
        Assert.Equal(["b"], reread.Entries.Keys);
        Assert.Equal(2, reread.Entries["b"].Value);
    }

    [Fact]
    public async Task Write_AfterAFailedOne_SendsItsChangesAgain()
    {
        var store = new FlakyStore(new MemoryEntryStateStore());
        var state = new EntryState<Counter, Counter>(store, Serializer, "t");
        await state.ReadAsync(GrainId.Create("test", "flaky"), Ct);
        state.Set("a", new Counter { Value = 1 });
        store.FailNext = true;
        await Assert.ThrowsAsync<InvalidOperationException>(() => state.WriteAsync(Ct));

        state.Set("b", new Counter { Value = 2 });
        await state.WriteAsync(Ct);

        Assert.Equal(["a", "b"], store.Writes[^1].Changes.Select(c => c.Key).Order());
    }

    [GenerateSerializer, Alias("anchor.tests.Counter")]
    public sealed class Counter
    {
        [Id(0)]
        public int Value { get; set; }
    }

    private sealed class FlakyStore(IEntryStateStore inner) : IEntryStateStore
    {
        public bool FailNext { get; set; }

        public List<EntryStateWrite> Writes { get; } = [];

        public Task<StoredEntryState?> ReadAsync(string stateName, GrainId grainId, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(stateName, grainId, cancellationToken);

        public Task<string> WriteAsync(string stateName, GrainId grainId, string? etag, EntryStateWrite write, CancellationToken cancellationToken = default)
        {
            if (FailNext)
            {
                FailNext = false;
                throw new InvalidOperationException("storage down");
            }

            Writes.Add(write);
            return inner.WriteAsync(stateName, grainId, etag, write, cancellationToken);
        }
    }
}
