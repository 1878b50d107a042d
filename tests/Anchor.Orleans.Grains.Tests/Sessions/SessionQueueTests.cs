using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions;
using Anchor.Orleans.Grains.Sessions.Queueing;

namespace Anchor.Orleans.Grains.Tests.Sessions;

/// <summary>
/// The registry's fair queue with <c>MaxConcurrent</c> = 2 (<see cref="ClusterFixture.SessionSlots"/>) and a 30 s
/// queue timeout, on the fixture's fake clock: exact grant orderings, positions, timeouts and vanished waiters.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SessionQueueTests(ClusterFixture fixture)
{
    private const int PerClient = 3;
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static int _nextRegistry = 5_000;

    private string Silo => fixture.Cluster.Primary!.SiloAddress.ToParsableString();

    private ISessionRegistryGrain NewRegistry() => fixture.Grains.GetGrain<ISessionRegistryGrain>(Interlocked.Increment(ref _nextRegistry));

    private Task<LeaseResult> AcquireAsync(ISessionRegistryGrain registry, string sessionId) =>
        registry.AcquireAsync(sessionId, sessionId[..1], Silo, PerClient, Ct);

    /// <summary>A fresh registry whose two slots client x holds (x1, x2), with <paramref name="waiting"/> queued in that order.</summary>
    private async Task<ISessionRegistryGrain> FullRegistryAsync(params string[] waiting)
    {
        var registry = NewRegistry();
        foreach (var id in (string[])["x1", "x2", .. waiting])
        {
            await AcquireAsync(registry, id);
        }

        return registry;
    }

    /// <summary>Where each request stands right now (a zero-length poll).</summary>
    private static async Task<Dictionary<string, (SlotWaitState State, int Position)>> StandingAsync(ISessionRegistryGrain registry, params string[] sessionIds)
    {
        var standing = new Dictionary<string, (SlotWaitState, int)>();
        foreach (var id in sessionIds)
        {
            var wait = await registry.WaitForSlotAsync(id, id[..1], -1, TimeSpan.Zero, Ct);
            standing[id] = (wait.State, wait.Position);
        }

        return standing;
    }

    [Fact]
    public async Task Queue_GrantsRoundRobinAcrossClients_InOrder_AsSlotsFree_NeverPastTheCap()
    {
        await fixture.FreshMonthAsync();
        var registry = NewRegistry();
        Assert.True((await AcquireAsync(registry, "x1")).Granted);
        Assert.True((await AcquireAsync(registry, "x2")).Granted);

        // A asks twice before B and C; B asks again last.
        var queued = new List<SlotWait>();
        foreach (var id in new[] { "a1", "a2", "b1", "c1", "b2" })
        {
            var lease = await AcquireAsync(registry, id);
            Assert.False(lease.Granted);
            queued.Add(lease.Queued!);
        }

        Assert.Equal([(1, 1), (2, 2), (2, 3), (3, 4), (5, 5)], queued.Select(q => (q.Position, q.Waiting)));
        Assert.All(queued, q => Assert.Equal(ClusterFixture.Time.GetUtcNow().AddSeconds(ClusterFixture.QueueTimeoutSeconds), q.Deadline));

        // Each closed session's slot goes to the next in turn: A, B, C, then A and B again.
        var granted = new List<string>();
        var waiting = new List<string> { "a1", "a2", "b1", "c1", "b2" };
        foreach (var closing in new[] { "x1", "x2", "a1", "b1", "c1" })
        {
            await registry.ReleaseAsync(closing, SessionEndReason.Completed);
            var standing = await StandingAsync(registry, [.. waiting]);
            var offered = Assert.Single(standing, s => s.Value.State == SlotWaitState.Offered).Key;
            Assert.All(standing.Where(s => s.Key != offered), s => Assert.Equal(SlotWaitState.Queued, s.Value.State));

            // Someone new cannot take the offered slot: it queues behind.
            var newcomer = await AcquireAsync(registry, $"z{granted.Count}");
            Assert.NotNull(newcomer.Queued);
            await registry.LeaveQueueAsync($"z{granted.Count}", "z");

            Assert.True((await AcquireAsync(registry, offered)).Granted);
            var stats = await registry.GetStatsAsync();
            Assert.Equal((2, waiting.Count - 1), (stats.Active, stats.Queued));
            granted.Add(offered);
            waiting.Remove(offered);
        }

        Assert.Equal(["a1", "b1", "c1", "a2", "b2"], granted);
    }

    [Fact]
    public async Task Queue_ReportsPositionsThatMoveUp_AndWakesAWaitingPollWhenASlotIsOffered()
    {
        await fixture.FreshMonthAsync();
        var registry = await FullRegistryAsync("a1", "b1", "c1");

        Assert.Equal(
            new Dictionary<string, (SlotWaitState, int)> { ["a1"] = (SlotWaitState.Queued, 1), ["b1"] = (SlotWaitState.Queued, 2), ["c1"] = (SlotWaitState.Queued, 3) },
            await StandingAsync(registry, "a1", "b1", "c1"));

        // A poll that would wait 5 s (on a clock that does not move) answers as soon as the queue moves.
        // (Had the release come first, the poll would answer at once: its known position is stale.)
        var polling = registry.WaitForSlotAsync("b1", "b", 2, TimeSpan.FromSeconds(5), Ct);
        await registry.ReleaseAsync("x1", SessionEndReason.Completed);
        var moved = await polling;
        Assert.Equal((SlotWaitState.Queued, 1), (moved.State, moved.Position));

        polling = registry.WaitForSlotAsync("b1", "b", 1, TimeSpan.FromSeconds(5), Ct);
        await registry.ReleaseAsync("x2", SessionEndReason.Completed);
        Assert.Equal(SlotWaitState.Offered, (await polling).State);
        Assert.Equal((SlotWaitState.Queued, 1), (await StandingAsync(registry, "c1"))["c1"]);
    }

    [Fact]
    public async Task Queue_RefusesAWaitThatOutlivesTheQueueTimeout_WithRetryAfterUntilTheSoonestSlotFrees()
    {
        var t0 = await fixture.FreshMonthAsync();
        var registry = NewRegistry();
        await AcquireAsync(registry, "x1");
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(100));
        await AcquireAsync(registry, "x2");
        await AcquireAsync(registry, "a1");
        await AcquireAsync(registry, "b1");

        // Both keep polling, once a second, until a second before their deadline.
        for (var second = 1; second < ClusterFixture.QueueTimeoutSeconds; second++)
        {
            ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.All((await StandingAsync(registry, "a1", "b1")).Values, s => Assert.Equal(SlotWaitState.Queued, s.State));
        }

        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        var expired = await registry.WaitForSlotAsync("a1", "a", -1, TimeSpan.Zero, Ct);

        // x1 opened at t0 and reaches its 300 s maximum at t0 + 300; it is now t0 + 130.
        Assert.Equal(SlotWaitState.Expired, expired.State);
        Assert.Equal(TimeSpan.FromSeconds(170), expired.RetryAfter);
        Assert.Equal("concurrency_limit: no browser session slot came free in 30 s (2 of 2 open cluster-wide, 1 waiting); retry after 170 s.", expired.RefusalMessage);
        Assert.Equal(t0.AddSeconds(130), expired.Deadline);
        Assert.Equal((SlotWaitState.Unknown, 0), (await StandingAsync(registry, "a1"))["a1"]);
    }

    [Fact]
    public async Task Queue_DropsAWaiterThatStoppedPolling_AndAnOfferNobodyTakesLapsesToTheNextWaiter()
    {
        await fixture.FreshMonthAsync();
        var registry = await FullRegistryAsync("a1", "b1", "c1"); // a1's front dies: it never polls

        ClusterFixture.Time.Advance(SlotQueue.WaiterStaleAfter - TimeSpan.FromSeconds(1));
        await StandingAsync(registry, "b1", "c1");
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));

        // a1 is dropped; the freed slot is offered to b1, whose front then vanishes too before claiming it.
        await registry.ReleaseAsync("x1", SessionEndReason.Completed);
        Assert.Equal(
            new Dictionary<string, (SlotWaitState, int)> { ["b1"] = (SlotWaitState.Offered, 0), ["c1"] = (SlotWaitState.Queued, 1) },
            await StandingAsync(registry, "b1", "c1"));
        ClusterFixture.Time.Advance(SlotQueue.OfferClaimWindow / 2);
        await StandingAsync(registry, "c1");
        ClusterFixture.Time.Advance(SlotQueue.OfferClaimWindow / 2);
        Assert.Equal(
            new Dictionary<string, (SlotWaitState, int)> { ["a1"] = (SlotWaitState.Unknown, 0), ["c1"] = (SlotWaitState.Offered, 0) },
            await StandingAsync(registry, "a1", "c1"));

        // The lapsed waiter asking late is queued again, behind; the cap held throughout.
        Assert.NotNull((await AcquireAsync(registry, "b1")).Queued);
        Assert.True((await AcquireAsync(registry, "c1")).Granted);
        Assert.Equal(2, (await registry.GetStatsAsync()).Active);
    }

    [Fact]
    public async Task Queue_PassesALeaversOfferOn_AndRefusesAtOnceAtTheClientsOwnCapCountingItsWaiters()
    {
        await fixture.FreshMonthAsync();
        var registry = await FullRegistryAsync("a1", "b1");

        await registry.ReleaseAsync("x1", SessionEndReason.Completed);
        await registry.LeaveQueueAsync("a1", "a");
        Assert.Equal(SlotWaitState.Offered, (await registry.WaitForSlotAsync("b1", "b", -1, TimeSpan.Zero, Ct)).State);

        // x holds one session and queues one more: at x's cap of 2, a third is refused at once, not queued.
        Assert.NotNull((await registry.AcquireAsync("x3", "x", Silo, 2, Ct)).Queued);
        var refused = await registry.AcquireAsync("x4", "x", Silo, 2, Ct);
        Assert.Null(refused.Queued);
        Assert.Equal(ErrorCodes.ConcurrencyLimit, refused.RefusalCode);
        Assert.Equal("concurrency_limit: this client has 1 of 2 sessions open and 1 waiting; close one (browser_session_close) first.", refused.RefusalMessage);
        Assert.Equal(TimeSpan.FromSeconds(300), refused.RetryAfter);
    }
}
