using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Grains.Interfaces.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Grains.Tests.Budgets;

[Collection(ClusterCollection.Name)]
public sealed class SessionBudgetTests(ClusterFixture fixture)
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private ISessionBudget Budget => fixture.Service<ISessionBudget>();

    private Task<LedgerTotals> TotalsAsync(string period) => fixture.Grains.GetGrain<IBudgetLedgerGrain>(period).GetTotalsAsync(Ct);

    /// <summary>However a session ends, its reservation is settled once, at its actual cost clamped to what it reserved.</summary>
    [Theory]
    [InlineData(SessionEndReason.Completed, "0.10", "0.10")]
    [InlineData(SessionEndReason.TimedOut, "0.25", "0.25")]
    [InlineData(SessionEndReason.Idle, "0.02", "0.02")]
    [InlineData(SessionEndReason.Operator, "0.05", "0.05")]
    [InlineData(SessionEndReason.Emergency, "0.31", "0.25")]
    [InlineData(SessionEndReason.Lost, null, "0.25")]
    public async Task Settle_ChargesTheActualCostOnce_AndLeavesNothingReserved_ForEveryWayASessionEnds(SessionEndReason reason, string? actual, string charged)
    {
        var openedAt = await fixture.FreshMonthAsync();
        var session = $"{reason}-{Guid.NewGuid():N}";
        decimal? actualUsd = actual is null ? null : decimal.Parse(actual, System.Globalization.CultureInfo.InvariantCulture);
        var expected = decimal.Parse(charged, System.Globalization.CultureInfo.InvariantCulture);

        await Budget.ReserveAsync(session, "leak", openedAt, 0.25m, Ct);
        await Budget.SettleAsync(session, "leak", openedAt, actualUsd, Ct);
        await Budget.SettleAsync(session, "leak", openedAt, 0.2m, Ct);

        foreach (var period in new[] { BudgetPeriods.Day(openedAt), BudgetPeriods.Month(openedAt) })
        {
            var totals = await TotalsAsync(period);
            Assert.Equal(expected, totals.SpentUsd);
            Assert.Equal(0m, totals.ReservedUsd);
            Assert.Equal(1, totals.SessionsSettled);
            Assert.Equal(new ClientTotals(expected, 0m, 1), totals.Clients["leak"]);
        }
    }

    [Fact]
    public async Task Reserve_TopUpsAddToTheReservation_AndASettledSessionCannotReserveAgain()
    {
        var openedAt = await fixture.FreshMonthAsync();
        await Budget.ReserveAsync("s", "a", openedAt, 0.25m, Ct);
        await Budget.ReserveAsync("s", "a", openedAt, 0.25m, Ct);
        Assert.Equal(0.5m, (await TotalsAsync(BudgetPeriods.Day(openedAt))).ReservedUsd);

        await Budget.SettleAsync("s", "a", openedAt, 0.4m, Ct);
        var error = await Assert.ThrowsAsync<AnchorException>(() => Budget.ReserveAsync("s", "a", openedAt, 0.25m, Ct));

        Assert.Equal(ErrorCodes.SessionExpired, error.Code);
        var day = await TotalsAsync(BudgetPeriods.Day(openedAt));
        Assert.Equal((0.4m, 0m), (day.SpentUsd, day.ReservedUsd));
    }

    [Fact]
    public async Task Periods_RollOverAtMidnightUtc_AndASessionIsBilledToTheDayItOpened()
    {
        var start = await fixture.FreshMonthAsync();
        var lastTick = start.Date.AddDays(1).AddTicks(-1);
        var openedAt = new DateTimeOffset(lastTick, TimeSpan.Zero);
        ClusterFixture.Time.SetUtcNow(openedAt);
        for (var i = 0; i < 40; i++)
        {
            await Budget.ReserveAsync($"late-{i}", "roll", openedAt, 0.25m, Ct);
        }

        var full = await Assert.ThrowsAsync<AnchorException>(() => Budget.ReserveAsync("late-40", "roll", openedAt, 0.25m, Ct));
        Assert.Equal("budget_exceeded: the daily cluster-wide budget has no room left.", full.Message);

        var midnight = openedAt.AddTicks(1);
        ClusterFixture.Time.SetUtcNow(midnight);
        await Budget.ReserveAsync("early-0", "roll", midnight, 0.25m, Ct);
        await Budget.SettleAsync("late-0", "roll", openedAt, 0.1m, Ct);

        var yesterday = await TotalsAsync(BudgetPeriods.Day(openedAt));
        var today = await TotalsAsync(BudgetPeriods.Day(midnight));
        Assert.NotEqual(yesterday.Period, today.Period);
        Assert.Equal((0.1m, 9.75m), (yesterday.SpentUsd, yesterday.ReservedUsd));
        Assert.Equal((0m, 0.25m), (today.SpentUsd, today.ReservedUsd));
        Assert.Equal((0.1m, 10m), ((await TotalsAsync(BudgetPeriods.Month(midnight))).SpentUsd, (await TotalsAsync(BudgetPeriods.Month(midnight))).ReservedUsd));
    }

    [Fact]
    public async Task Reserve_RefusedByTheMonth_GivesTheDaysShareBack()
    {
        var openedAt = await fixture.FreshMonthAsync();
        await Budget.ReserveAsync("m-1", "month-capped", openedAt, 0.25m, Ct);
        await Budget.ReserveAsync("m-2", "month-capped", openedAt, 0.25m, Ct);

        var error = await Assert.ThrowsAsync<AnchorException>(() => Budget.ReserveAsync("m-3", "month-capped", openedAt, 0.25m, Ct));

        Assert.Equal(ErrorCodes.BudgetExceeded, error.Code);
        Assert.Equal("budget_exceeded: the monthly budget of client 'month-capped' ($0.50) has no room left ($0.50 spent or reserved).", error.Message);
        var day = await fixture.Grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Day(openedAt)).GetSnapshotAsync(Ct);
        Assert.Equal(0.5m, day.ReservedUsd);
        Assert.Equal(["m-1", "m-2"], day.Reservations.Keys.Order());
    }

    [Fact]
    public async Task Settle_TripsTheEmergencySwitch_WhenTheDaysRecordedSpendReachesTheThreshold()
    {
        var openedAt = await fixture.FreshMonthAsync();
        var emergency = fixture.Grains.GetGrain<IEmergencyStopGrain>(0);
        try
        {
            for (var i = 0; i < 31; i++)
            {
                await Budget.ReserveAsync($"e-{i}", "spender", openedAt, 0.25m, Ct);
                await Budget.SettleAsync($"e-{i}", "spender", openedAt, null, Ct);
            }

            Assert.False((await emergency.GetStateAsync(Ct)).Tripped);
            await Budget.ReserveAsync("e-31", "spender", openedAt, 0.25m, Ct);
            await Budget.SettleAsync("e-31", "spender", openedAt, null, Ct);

            var state = await emergency.GetStateAsync(Ct);
            Assert.True(state.Tripped);
            Assert.Equal(EmergencyStopActors.Budget, state.TrippedBy);
            Assert.Equal($"recorded spend $8.00 on {BudgetPeriods.Day(openedAt)[4..]} reached Budget:EmergencyShutdownUsd ($8.00)", state.Reason);
            Assert.Equal(openedAt, state.TrippedAt);
            var alert = Assert.Single(ClusterFixture.Alerts.With(EmergencyStopGrain.AlertKey), a => a.At == openedAt && a.Severity == AlertSeverity.Critical);
            Assert.Contains(state.Reason!, alert.Message, StringComparison.Ordinal);
            await Poll.UntilAsync(() => fixture.Service<EmergencyStopView>().State?.Tripped == true, TimeSpan.FromSeconds(5), "the view to be pushed the trip");
        }
        finally
        {
            await emergency.ResetAsync("test", Ct);
            await fixture.Service<EmergencyStopView>().RefreshAsync(Ct);
        }
    }
}
