using Anchor.Orleans.Grains.Admission;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Governance;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Grains.Tools;

namespace Anchor.Orleans.Grains.Tests.Budgets;

[Collection(ClusterCollection.Name)]
public sealed class BudgetStatusTests(ClusterFixture fixture)
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetForClient_ReportsRateAndBothBudgets_ForTheClientAndGlobally()
    {
        var now = await fixture.FreshMonthAsync();
        var budget = fixture.Service<ISessionBudget>();
        var policy = new ClientPolicy($"status-{Guid.NewGuid():N}", 5, 60, 2m, 20m, 3, [], [], []);
        await fixture.Service<IToolAdmission>().AdmitAsync(policy, new ToolFacts("browser_navigate"), Ct);
        await budget.ReserveAsync("st-1", policy.ClientId, now, 0.25m, Ct);
        await budget.SettleAsync("st-1", policy.ClientId, now, 0.1m, Ct);
        await budget.ReserveAsync("st-2", policy.ClientId, now, 0.25m, Ct);
        await budget.ReserveAsync("st-3", "someone-else", now, 1m, Ct);

        var report = await fixture.Service<BudgetStatus>().GetForClientAsync(policy, Ct);

        Assert.Equal(new RateLimitStatus(5, 4, 60, now.AddSeconds(60), null), report.RateLimit);
        Assert.Equal(new PeriodBudgetStatus(BudgetPeriods.Day(now), new BudgetUsage(0.1m, 0.25m, 2m, 1.65m), false), report.Daily);
        Assert.Equal(new PeriodBudgetStatus(BudgetPeriods.Month(now), new BudgetUsage(0.1m, 0.25m, 20m, 19.65m), false), report.Monthly);
    }

    [Fact]
    public async Task GetForClient_ClusterHasLessLeftThanTheClient_SaysOnlyThatTheClusterLimits()
    {
        var now = await fixture.FreshMonthAsync();
        var budget = fixture.Service<ISessionBudget>();
        // A client allowed more than the cluster's whole day (10) and month (100).
        var policy = new ClientPolicy($"status-{Guid.NewGuid():N}", 5, 60, 50m, 500m, 3, [], [], []);
        await budget.ReserveAsync("big-1", "someone-else", now, 1.5m, Ct);
        await budget.ReserveAsync("big-2", policy.ClientId, now, 0.5m, Ct);

        var report = await fixture.Service<BudgetStatus>().GetForClientAsync(policy, Ct);

        Assert.Equal(new PeriodBudgetStatus(BudgetPeriods.Day(now), new BudgetUsage(0m, 0.5m, 50m, 49.5m), true), report.Daily);
        Assert.Equal(new PeriodBudgetStatus(BudgetPeriods.Month(now), new BudgetUsage(0m, 0.5m, 500m, 499.5m), true), report.Monthly);
    }

    [Fact]
    public async Task GetOverview_ReportsUtilizationCostPerSearchClientsAndForecast()
    {
        var now = await fixture.FreshMonthAsync();
        var budget = fixture.Service<ISessionBudget>();
        await budget.ReserveAsync("o-1", "a", now, 1m, Ct);
        await budget.SettleAsync("o-1", "a", now, 0.5m, Ct);
        await budget.ReserveAsync("o-2", "b", now, 1m, Ct);
        await budget.SettleAsync("o-2", "b", now, 1m, Ct);
        await budget.ReserveAsync("o-3", "a", now, 0.5m, Ct);
        // Ten days into the month (1st 10:00 → 11th 10:00).
        ClusterFixture.Time.Advance(TimeSpan.FromDays(10));

        var overview = await fixture.Service<BudgetStatus>().GetOverviewAsync(Ct);

        Assert.Equal(new PeriodOverview(BudgetPeriods.Day(now.AddDays(10)), 0m, 0m, 10m, 0m, 0, null, []), overview.Daily with { Clients = [] });
        Assert.Empty(overview.Daily.Clients);
        var monthly = overview.Monthly;
        Assert.Equal((1.5m, 0.5m, 100m, 2m, 2L, 0.75m), (monthly.SpentUsd, monthly.ReservedUsd, monthly.LimitUsd, monthly.UtilizationPercent, monthly.SessionsSettled, monthly.CostPerSearchUsd));
        Assert.Equal([new ClientSpend("b", 1m, 0m, 1), new ClientSpend("a", 0.5m, 0.5m, 1)], monthly.Clients);
        // 1.5 spent over 10 days 10 hours (10.41666… days) of a 31- or 30-day month.
        Assert.Equal(BudgetStatus.Forecast(1.5m, now.AddDays(10)), overview.MonthEndForecastUsd);
    }

    [Theory]
    [InlineData("2026-12-11T00:00:00Z", "3.00", "9.3")]
    [InlineData("2026-12-01T06:00:00Z", "1.00", "31")]
    [InlineData("2027-02-15T00:00:00Z", "14.00", "28")]
    public void Forecast_ExtrapolatesTheMonthsRunRate(string now, string spent, string expected) =>
        Assert.Equal(
            decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture),
            BudgetStatus.Forecast(decimal.Parse(spent, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public async Task ExportThenImport_RestoresEveryLedgerAndTheSwitchExactly()
    {
        var now = await fixture.FreshMonthAsync();
        var budget = fixture.Service<ISessionBudget>();
        var backup = fixture.Service<GovernanceBackup>();
        await budget.ReserveAsync("b-1", "a", now, 0.25m, Ct);
        await budget.SettleAsync("b-1", "a", now, 0.2m, Ct);
        await budget.ReserveAsync("b-2", "a", now, 0.25m, Ct);
        var exported = await backup.ExportAsync(Ct);
        await budget.SettleAsync("b-2", "a", now, 0.25m, Ct);

        await backup.ImportAsync(exported, Ct);

        var again = await backup.ExportAsync(Ct);
        Assert.Contains(BudgetPeriods.Day(now), exported.Ledgers.Select(l => l.Period));
        Assert.Equal(Json(exported.Ledgers), Json(again.Ledgers));
        var day = await fixture.Grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Day(now)).GetTotalsAsync(Ct);
        Assert.Equal((0.2m, 0.25m), (day.SpentUsd, day.ReservedUsd));
    }

    private static string Json<T>(T value) => System.Text.Json.JsonSerializer.Serialize(value);
}
