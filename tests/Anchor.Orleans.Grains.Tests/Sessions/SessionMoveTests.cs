using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions;

namespace Anchor.Orleans.Grains.Tests.Sessions;

/// <summary>
/// The registry's side of sessions that move between silos (issue 13), on the fixture's fake clock: parking, handing
/// a lease to the silo that restores it, leases of dead silos parked for a restore, parked sessions nobody comes back
/// for, and what is never handed over.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SessionMoveTests(ClusterFixture fixture)
{
    // Silo addresses no member has: the registry takes them for dead once their leases are old enough.
    private const string Gone = "127.0.0.1:1@1";
    private const string Elsewhere = "127.0.0.1:2@2";
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static int _nextRegistry = 7_000;

    private string Silo => fixture.Cluster.Primary!.SiloAddress.ToParsableString();

    private ISessionRegistryGrain NewRegistry() => fixture.Grains.GetGrain<ISessionRegistryGrain>(Interlocked.Increment(ref _nextRegistry));

    [Fact]
    public async Task ParkedLease_IsHandedToTheRestoringSilo_WithItsSlotLifetimeAndParkedCost()
    {
        await fixture.FreshMonthAsync();
        var registry = NewRegistry();
        var granted = (await registry.AcquireAsync("m1", "m", Gone, 3, Ct)).Lease!;

        // Silo Gone drains: it parks the session; this silo restores it.
        await registry.ParkAsync("m1", 0.05m);
        var parked = Assert.Single(await registry.ListAsync());
        var resumed = await registry.ResumeAsync("m1", "m", Silo);
        var held = Assert.Single(await registry.ListAsync());

        Assert.Equal((true, 0.05m, Gone), (parked.Parked, parked.ParkedCostUsd, parked.Silo));
        Assert.Null(resumed.Ended);
        Assert.Equal((Silo, granted.AcquiredAt, granted.ExpiresAt, 0.05m), (resumed.Lease!.Silo, resumed.Lease.AcquiredAt, resumed.Lease.ExpiresAt, resumed.Lease.ParkedCostUsd));
        Assert.Equal((Silo, false, (decimal?)null), (held.Silo, held.Parked, held.ParkedCostUsd));
    }

    [Fact]
    public async Task LeaseOfADeadSilo_IsParkedForARestore_AndResumedAsLost()
    {
        await fixture.FreshMonthAsync();
        var registry = NewRegistry();
        await registry.AcquireAsync("d1", "d", Gone, 3, Ct);

        // Past twice the cleanup interval a lease of a silo the cluster never saw counts as its silo's loss.
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(121));
        var parked = Assert.Single(await registry.ListAsync());
        var resumed = await registry.ResumeAsync("d1", "d", Silo);
        var held = Assert.Single(await registry.ListAsync());

        Assert.True(parked.Parked);
        Assert.Null(parked.ParkedCostUsd);
        Assert.Equal((Silo, (decimal?)null), (resumed.Lease!.Silo, resumed.Lease.ParkedCostUsd));
        Assert.Equal(("d1", Silo, false), (held.SessionId, held.Silo, held.Parked));
    }

    [Fact]
    public async Task ParkedSession_NobodyCallsAgain_EndsAfterTheIdleTimeout_AndCannotBeResumed()
    {
        await fixture.FreshMonthAsync();
        var registry = NewRegistry();
        await registry.AcquireAsync("p1", "p", Silo, 3, Ct);
        await registry.ParkAsync("p1", 0.02m);

        await fixture.AdvanceAsync(TimeSpan.FromSeconds(119));
        var stillParked = await registry.ListAsync();
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(1)); // Sessions:IdleTimeoutSeconds = 120 since it was parked
        var after = await registry.ListAsync();
        var ended = await registry.GetEndedAsync("p1", "p");
        var late = await registry.ResumeAsync("p1", "p", Silo);

        Assert.Equal("p1", Assert.Single(stillParked).SessionId);
        Assert.Empty(after);
        Assert.Equal(SessionEndReason.Idle, ended!.Reason);
        Assert.Null(late.Lease);
        Assert.Equal(SessionEndReason.Idle, late.Ended!.Reason);
    }

    [Fact]
    public async Task LiveLease_AnotherClient_OrNoLease_IsNeverHandedOver()
    {
        await fixture.FreshMonthAsync();
        var registry = NewRegistry();
        await registry.AcquireAsync("l1", "l", Silo, 3, Ct);

        var live = await registry.ResumeAsync("l1", "l", Elsewhere);
        var otherClient = await registry.ResumeAsync("l1", "intruder", Elsewhere);
        var unknown = await registry.ResumeAsync("nobody", "l", Elsewhere);
        var lease = Assert.Single(await registry.ListAsync());

        Assert.Null(live.Lease);
        Assert.True(live.Ended!.LiveElsewhere);
        Assert.Equal(new SessionResume(null, null), otherClient);
        Assert.Equal(new SessionResume(null, null), unknown);
        Assert.Equal((Silo, false), (lease.Silo, lease.Parked));
    }
}
