using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Grains.Interfaces.RateLimiting;
using Anchor.Orleans.Grains.Persistence;
using Anchor.Orleans.Grains.RateLimiting;
using Orleans.Storage;
using StackExchange.Redis;

namespace Anchor.Orleans.Grains.Tests.Persistence;

/// <summary>
/// A governance write against real Redis carries the totals and the records that changed — the same fields and
/// bytes whether the period holds a thousand settled sessions or eight thousand.
/// </summary>
[Collection(RedisStorageCollection.Name)]
public sealed class IncrementalWriteTests(RedisStorageFixture fixture)
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Settle_WritesTheSameFieldsAndBytes_At1000And8000SettledSessions()
    {
        var period = "day:2026-11-23";
        var ledger = fixture.Grains.GetGrain<IBudgetLedgerGrain>(period);
        var grain = ledger.GetGrainId();
        await ledger.RestoreAsync(Empty(period), Ct);

        var small = await SettleOneMoreAsync(ledger, grain, prefill: 1_000, firstId: 0);
        var large = await SettleOneMoreAsync(ledger, grain, prefill: 6_998, firstId: 1_001);

        // One changed record (the session's settled marker) plus the head, the same size at both sizes. Counts in the
        // head are varints (1,001 and 8,000 settled take the same two bytes): the head grows with log(count), never
        // with the number of records.
        Assert.Equal((1, false), (small.Changes.Count, small.ClearEntries));
        Assert.Equal((small.Changes.Count, small.Head.Length, small.ValueBytes), (large.Changes.Count, large.Head.Length, large.ValueBytes));
        Assert.Equal(ExpectedSettleBytes, (small.Head.Length, small.ValueBytes));

        // What Redis holds agrees: every session is a field, and the head is what one write sends.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var db = redis.GetDatabase();
        var (head, entries) = fixture.RedisStore.Keys(BudgetLedgerGrain.StateName, grain);
        Assert.Equal(8_000L, await db.HashLengthAsync(entries));
        Assert.Equal((long)large.Head.Length, await db.HashStringLengthAsync(head, "data"));
        Assert.Equal(8_000L, (await ledger.GetTotalsAsync(Ct)).SessionsSettled);
    }

    [Fact]
    public async Task Acquire_WritesOneCall_WhateverTheLogHolds()
    {
        var limiter = fixture.Grains.GetGrain<IClientRateLimiterGrain>($"client-{Guid.NewGuid():N}");
        var grain = limiter.GetGrainId();
        for (var i = 0; i < 1_000; i++)
        {
            Assert.True((await limiter.AcquireAsync(100_000, 3600, Ct)).Allowed);
        }

        var writes = fixture.Store.WritesOf(grain);
        Assert.Equal(1_000, writes.Count);
        // Sequence numbers below and above 128 take the same varint width as each other within a range; compare
        // the 200th and the 1000th call (both two-byte sequences).
        Assert.Equal((1, writes[199].Head.Length, writes[199].ValueBytes), (writes[999].Changes.Count, writes[999].Head.Length, writes[999].ValueBytes));
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var db = redis.GetDatabase();
        Assert.Equal(1_000L, await db.HashLengthAsync(fixture.RedisStore.Keys(ClientRateLimiterGrain.StateName, grain).Entries));
    }

    [Fact]
    public async Task Settlement_IsExactlyOnce_AcrossReactivationFromRedis()
    {
        var period = "month:2026-07";
        var ledger = fixture.Grains.GetGrain<IBudgetLedgerGrain>(period);
        var session = $"s-{Guid.NewGuid():N}";
        Assert.True((await ledger.ReserveAsync(session, "a", 0.5m, 100m, Ct)).Granted);
        Assert.Equal(new SettleResult(true, 0.2m, 0.3m), await ledger.SettleAsync(session, 0.2m, Ct));
        var before = await ledger.GetTotalsAsync(Ct);
        var reads = fixture.Store.ReadsOf(ledger.GetGrainId());

        await fixture.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero, Ct);
        Assert.Equal(new SettleResult(false, 0m, 0m), await ledger.SettleAsync(session, 0.5m, Ct));

        Assert.Equal(reads + 1, fixture.Store.ReadsOf(ledger.GetGrainId()));
        Assert.Equal(new ReserveResult(false, null, 0, 0, AlreadySettled: true), await ledger.ReserveAsync(session, "a", 0.5m, 100m, Ct));
        var after = await ledger.GetTotalsAsync(Ct);
        Assert.Equal((before.SpentUsd, before.ReservedUsd, before.SessionsSettled), (after.SpentUsd, after.ReservedUsd, after.SessionsSettled));
    }

    [Fact]
    public async Task Restore_OfThousandsOfRecords_RoundTripsThroughRedis_AfterReactivation()
    {
        var period = "month:2026-05";
        var ledger = fixture.Grains.GetGrain<IBudgetLedgerGrain>(period);
        var at = new DateTimeOffset(2026, 5, 3, 4, 5, 6, TimeSpan.Zero);
        var backup = Empty(period) with
        {
            ReservedUsd = 25m,
            Clients = new Dictionary<string, ClientBackup> { ["a"] = new(0m, 25m, 0) },
            Reservations = Enumerable.Range(0, 2_500).ToDictionary(Id, _ => new ReservationBackup("a", 0.01m, at)),
            Settled = Enumerable.Range(2_500, 1_500).ToDictionary(Id, _ => at),
        };

        await ledger.RestoreAsync(backup, Ct);
        await fixture.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero, Ct);
        var restored = await ledger.GetSnapshotAsync(Ct);

        Assert.Equal((2_500, 1_500, 25m), (restored.Reservations.Count, restored.Settled.Count, restored.ReservedUsd));
        Assert.Equal(backup.Reservations.OrderBy(r => r.Key, StringComparer.Ordinal), restored.Reservations);
        Assert.Equal(backup.Settled.OrderBy(r => r.Key, StringComparer.Ordinal), restored.Settled);
    }

    [Fact]
    public async Task Write_WithAStaleETag_IsRefused_AndChangesNothing()
    {
        var grain = GrainId.Create("test", Guid.NewGuid().ToString("N"));
        var first = await fixture.RedisStore.WriteAsync("probe", grain, null, new EntryStateWrite([1], [new("x", [2])], false), Ct);

        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            fixture.RedisStore.WriteAsync("probe", grain, null, new EntryStateWrite([9], [new("y", [9])], false), Ct));

        var stored = await fixture.RedisStore.ReadAsync("probe", grain, Ct);
        Assert.Equal("1", stored!.ETag);
        Assert.Equal([1], stored.Head);
        Assert.Equal(["x"], stored.Entries.Keys);
        Assert.Equal("1", first);
    }

    private static readonly (int Head, int Total) ExpectedSettleBytes = (135, 198);

    private static LedgerBackup Empty(string period) =>
        new(period, 0, 0, 0, new Dictionary<string, ClientBackup>(), new Dictionary<string, ReservationBackup>(), new Dictionary<string, DateTimeOffset>(), [], false);

    /// <summary>Reserves and settles <paramref name="prefill"/> sessions concurrently, then one more alone; returns that one settle's write.</summary>
    private async Task<EntryStateWrite> SettleOneMoreAsync(IBudgetLedgerGrain ledger, GrainId grain, int prefill, int firstId)
    {
        var ids = Enumerable.Range(firstId, prefill).Select(Id).ToList();
        await Task.WhenAll(ids.Select(id => ledger.ReserveAsync(id, "a", 0.01m, 1_000_000m, Ct)));
        await Task.WhenAll(ids.Select(id => ledger.SettleAsync(id, 0.01m, Ct)));
        var last = Id(firstId + prefill);
        await ledger.ReserveAsync(last, "a", 0.01m, 1_000_000m, Ct);
        var count = fixture.Store.WritesOf(grain).Count;
        Assert.True((await ledger.SettleAsync(last, 0.01m, Ct)).Settled);
        var writes = fixture.Store.WritesOf(grain);
        Assert.Equal(count + 1, writes.Count);
        return writes[^1];
    }

    private static string Id(int i) => $"s-{i:D6}";
}
