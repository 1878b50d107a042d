using Anchor.Orleans.Grains.Admission;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Grains.Interfaces.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Tools;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Grains.Tests.Admission;

[Collection(ClusterCollection.Name)]
public sealed class GovernedToolAdmissionTests(ClusterFixture fixture)
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private IToolAdmission Admission => fixture.Service<IToolAdmission>();

    private static ClientPolicy Policy(string clientId, int maxRequests = 100, int windowSeconds = 3600, decimal daily = 10m, decimal monthly = 100m) =>
        new(clientId, maxRequests, windowSeconds, daily, monthly, 3, [], [], []);

    [Fact]
    public async Task Admit_RefusesPastTheRateLimit_WithRetryAfterInWholeSeconds()
    {
        var t0 = await fixture.FreshMonthAsync();
        var client = Policy($"rate-{Guid.NewGuid():N}", maxRequests: 2, windowSeconds: 30);
        await Admission.AdmitAsync(client, new ToolFacts("browser_navigate"), Ct);
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(10.5));
        await Admission.AdmitAsync(client, new ToolFacts("browser_click"), Ct);

        var error = await Assert.ThrowsAsync<AnchorException>(() => Admission.AdmitAsync(client, new ToolFacts("browser_click"), Ct));

        Assert.Equal(ErrorCodes.RateLimited, error.Code);
        Assert.Equal(TimeSpan.FromSeconds(20), error.RetryAfter);
        Assert.Equal($"rate_limited: client '{client.ClientId}' has made 2 calls in the last 30 s (limit 2); retry after 20 s.", error.Message);
        ClusterFixture.Time.SetUtcNow(t0.AddSeconds(30));
        await fixture.Service<EmergencyStopView>().RefreshAsync(Ct);
        await Admission.AdmitAsync(client, new ToolFacts("browser_click"), Ct);
    }

    [Fact]
    public async Task Admit_RefusesWhenABudgetHasNoRoom_NamingIt()
    {
        var now = await fixture.FreshMonthAsync();
        var budget = fixture.Service<ISessionBudget>();
        await budget.ReserveAsync("full-1", "day-capped", now, 1m, Ct);

        var client = await Assert.ThrowsAsync<AnchorException>(() => Admission.AdmitAsync(Policy("day-capped", daily: 1m), new ToolFacts("browser_snapshot"), Ct));
        Assert.Equal(ErrorCodes.BudgetExceeded, client.Code);
        Assert.Equal("budget_exceeded: the daily budget of client 'day-capped' ($1.00) has no room left ($1.00 spent or reserved).", client.Message);

        await budget.ReserveAsync("full-2", "other", now, 9m, Ct);
        var global = await Assert.ThrowsAsync<AnchorException>(() => Admission.AdmitAsync(Policy("fresh"), new ToolFacts("browser_snapshot"), Ct));
        Assert.Equal("budget_exceeded: the daily cluster-wide budget has no room left.", global.Message);
    }

    [Fact]
    public async Task Admit_ChecksTheSwitchFirst_WithItsReason()
    {
        await fixture.FreshMonthAsync();
        var emergency = fixture.Grains.GetGrain<IEmergencyStopGrain>(0);
        var view = fixture.Service<EmergencyStopView>();
        var client = Policy($"order-{Guid.NewGuid():N}", maxRequests: 1);
        await Admission.AdmitAsync(client, new ToolFacts("browser_navigate"), Ct);
        try
        {
            var state = await emergency.TripAsync("drill", "ops", Ct);
            await Poll.UntilAsync(() => view.State?.Version == state.Version, TimeSpan.FromSeconds(1), "the trip to reach the view");

            var error = await Assert.ThrowsAsync<AnchorException>(() => Admission.AdmitAsync(client, new ToolFacts("browser_navigate"), Ct));

            Assert.Equal(ErrorCodes.EmergencyShutdown, error.Code);
            Assert.StartsWith("emergency_shutdown: drill (tripped by ops at ", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            var reset = await emergency.ResetAsync("ops", Ct);
            await Poll.UntilAsync(() => view.State?.Version == reset.Version, TimeSpan.FromSeconds(1), "the reset to reach the view");
        }

        // The refused call did not consume the client's only call... but the first did: now the rate limit answers.
        Assert.Equal(ErrorCodes.RateLimited, (await Assert.ThrowsAsync<AnchorException>(() => Admission.AdmitAsync(client, new ToolFacts("browser_navigate"), Ct))).Code);
    }

    [Fact]
    public async Task Admit_SeesAReservationMadeThroughThisSilo_AtOnce()
    {
        var now = await fixture.FreshMonthAsync();
        var client = Policy($"room-here-{Guid.NewGuid():N}", daily: 1m);
        await Admission.AdmitAsync(client, new ToolFacts("browser_snapshot"), Ct); // the view now holds "room left"

        await fixture.Service<ISessionBudget>().ReserveAsync("here-1", client.ClientId, now, 1m, Ct);

        var error = await Assert.ThrowsAsync<AnchorException>(() => Admission.AdmitAsync(client, new ToolFacts("browser_snapshot"), Ct));
        Assert.Equal($"budget_exceeded: the daily budget of client '{client.ClientId}' ($1.00) has no room left ($1.00 spent or reserved).", error.Message);
    }

    [Fact]
    public async Task Admit_SeesAReservationMadeThroughAnotherSilo_WithinTheViewsMaxAge()
    {
        var now = await fixture.FreshMonthAsync();
        var client = Policy($"room-there-{Guid.NewGuid():N}", daily: 1m);
        await Admission.AdmitAsync(client, new ToolFacts("browser_snapshot"), Ct);

        // Straight to the ledger grain, as a session on another silo reserves: this silo's view is not told.
        var granted = await fixture.Grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Day(now)).ReserveAsync("there-1", client.ClientId, 1m, 1m, Ct);
        Assert.True(granted.Granted);

        // The reservation itself is exact (the ledger refuses a second one); admission still uses the answer it had...
        Assert.False((await fixture.Grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Day(now)).ReserveAsync("there-2", client.ClientId, 0.01m, 1m, Ct)).Granted);
        await fixture.AdvanceAsync(LedgerRoomView.MaxAge - TimeSpan.FromMilliseconds(1));
        await Admission.AdmitAsync(client, new ToolFacts("browser_snapshot"), Ct);

        // ...until it is MaxAge old.
        await fixture.AdvanceAsync(TimeSpan.FromMilliseconds(1));
        var error = await Assert.ThrowsAsync<AnchorException>(() => Admission.AdmitAsync(client, new ToolFacts("browser_snapshot"), Ct));
        Assert.Equal(ErrorCodes.BudgetExceeded, error.Code);
    }
}
