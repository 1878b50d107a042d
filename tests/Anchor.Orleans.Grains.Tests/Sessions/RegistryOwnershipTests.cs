using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Grains.Tests.Sessions;

/// <summary>
/// The registry answers for a session only to its owner, in every state a session id can name there — live, parked
/// (its silo drained), lost (its silo died), queued, offered a slot, ended: another client's call is told nothing and
/// moves nothing. (Two slots, <see cref="ClusterFixture.SessionSlots"/>, on the fixture's fake clock.)
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RegistryOwnershipTests(ClusterFixture fixture)
{
    private const string Gone = "127.0.0.1:1@1";
    private const string Elsewhere = "127.0.0.1:2@2";
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static int _nextRegistry = 9_000;

    private string Silo => fixture.Cluster.Primary!.SiloAddress.ToParsableString();

    private ISessionRegistryGrain NewRegistry() => fixture.Grains.GetGrain<ISessionRegistryGrain>(Interlocked.Increment(ref _nextRegistry));

    [Fact]
    public async Task LiveParkedAndLostLeases_AskedAboutByAnotherClient_AnswerNothing_AndStayAsTheyWere()
    {
        await fixture.FreshMonthAsync();
        // Two slots per registry: a live and a parked lease in one, a lease of a silo that died in the other.
        var registry = NewRegistry();
        await registry.AcquireAsync("live", "owner", Silo, 5, Ct);
        await registry.AcquireAsync("parked", "owner", Silo, 5, Ct);
        await registry.ParkAsync("parked", 0.03m);
        var lostRegistry = NewRegistry();
        await lostRegistry.AcquireAsync("lost", "owner", Gone, 5, Ct);
        var before = (await registry.ListAsync()).Concat(await lostRegistry.ListAsync()).ToList();

        var answers = new List<object?>();
        foreach (var (r, id) in new[] { (registry, "live"), (registry, "parked"), (lostRegistry, "lost") })
        {
            answers.Add(await r.GetEndedAsync(id, "intruder", Silo));
            answers.Add(await r.GetEndedAsync(id, "intruder", Elsewhere));
            answers.Add(await r.GetEndedAsync(id, "intruder"));
            answers.Add((await r.ResumeAsync(id, "intruder", Silo)).Lease);
            answers.Add((await r.ResumeAsync(id, "intruder", Silo)).Ended);
            var acquired = await r.AcquireAsync(id, "intruder", Silo, 5, Ct);
            Assert.Equal((false, ErrorCodes.SessionNotFound, (SlotWait?)null), (acquired.Granted, acquired.RefusalCode, acquired.Queued));
            Assert.Equal(SlotWaitState.Unknown, (await r.WaitForSlotAsync(id, "intruder", -1, TimeSpan.Zero, Ct)).State);
            await r.LeaveQueueAsync(id, "intruder");
        }

        var after = (await registry.ListAsync()).Concat(await lostRegistry.ListAsync()).ToList();
        var stats = new[] { await registry.GetStatsAsync(), await lostRegistry.GetStatsAsync() };

        Assert.All(answers, Assert.Null);
        Assert.Equal(before, after);
        Assert.Equal([(2, 0L), (1, 0L)], stats.Select(s => (s.Active, s.EndedByReason.Values.Sum())));

        // The owner asking about the lost one is told, and that ends it (as before).
        var lost = await lostRegistry.GetEndedAsync("lost", "owner", Silo);
        Assert.Equal((SessionEndReason.Lost, true), (lost!.Reason, lost.JustLost));
        Assert.Null(await lostRegistry.GetEndedAsync("lost", "intruder"));
    }

    [Fact]
    public async Task QueuedAndOfferedRequests_OfAnotherClient_CannotBePolledWithdrawnOrJoined()
    {
        await fixture.FreshMonthAsync();
        var registry = NewRegistry();
        await registry.AcquireAsync("x1", "x", Silo, 5, Ct);
        await registry.AcquireAsync("x2", "x", Silo, 5, Ct);
        Assert.NotNull((await registry.AcquireAsync("a1", "a", Silo, 5, Ct)).Queued);
        Assert.NotNull((await registry.AcquireAsync("a2", "a", Silo, 5, Ct)).Queued);

        // Queued: the intruder can neither see, withdraw nor join a1's place.
        var polled = await registry.WaitForSlotAsync("a1", "intruder", -1, TimeSpan.Zero, Ct);
        await registry.LeaveQueueAsync("a1", "intruder");
        var joined = await registry.AcquireAsync("a1", "intruder", Silo, 5, Ct);
        var stillFirst = await registry.WaitForSlotAsync("a1", "a", -1, TimeSpan.Zero, Ct);

        Assert.Equal((SlotWaitState.Unknown, 0), (polled.State, polled.Position));
        Assert.Equal((false, ErrorCodes.SessionNotFound, (SlotWait?)null), (joined.Granted, joined.RefusalCode, joined.Queued));
        Assert.Equal((SlotWaitState.Queued, 1, 2), (stillFirst.State, stillFirst.Position, stillFirst.Waiting));

        // Offered: a slot frees for a1; the intruder cannot take it or pass it on.
        await registry.ReleaseAsync("x1", SessionEndReason.Completed);
        var offeredToIntruder = await registry.WaitForSlotAsync("a1", "intruder", -1, TimeSpan.Zero, Ct);
        await registry.LeaveQueueAsync("a1", "intruder");
        var taken = await registry.AcquireAsync("a1", "intruder", Silo, 5, Ct);
        var offered = await registry.WaitForSlotAsync("a1", "a", -1, TimeSpan.Zero, Ct);
        var claimed = await registry.AcquireAsync("a1", "a", Silo, 5, Ct);

        Assert.Equal(SlotWaitState.Unknown, offeredToIntruder.State);
        Assert.Equal((false, ErrorCodes.SessionNotFound), (taken.Granted, taken.RefusalCode));
        Assert.Equal(SlotWaitState.Offered, offered.State);
        Assert.True(claimed.Granted);
        Assert.Equal("a", claimed.Lease!.ClientId);
    }

    [Fact]
    public async Task EndedSession_IsToldOnlyToItsOwner()
    {
        await fixture.FreshMonthAsync();
        var registry = NewRegistry();
        await registry.AcquireAsync("e1", "owner", Silo, 5, Ct);
        await registry.ReleaseAsync("e1", SessionEndReason.Completed);

        Assert.Null(await registry.GetEndedAsync("e1", "intruder", Silo));
        Assert.Null((await registry.ResumeAsync("e1", "intruder", Silo)).Ended);
        Assert.Equal(SessionEndReason.Completed, (await registry.GetEndedAsync("e1", "owner", Silo))!.Reason);
        Assert.Equal(SessionEndReason.Completed, (await registry.ResumeAsync("e1", "owner", Silo)).Ended!.Reason);
    }
}
