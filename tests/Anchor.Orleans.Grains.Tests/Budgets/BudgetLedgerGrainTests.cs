using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Grains.Interfaces.Budgets;

namespace Anchor.Orleans.Grains.Tests.Budgets;

[Collection(ClusterCollection.Name)]
public sealed class BudgetLedgerGrainTests(ClusterFixture fixture)
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private IBudgetLedgerGrain Day(DateTimeOffset at) => fixture.Grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Day(at));

    private IBudgetLedgerGrain Month(DateTimeOffset at) => fixture.Grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Month(at));

    [Fact]
    public async Task Reserve_AdmitsUpToTheGlobalLimitExactly_AndRefusesTheNextCent()
    {
        var now = await fixture.FreshMonthAsync();
        var day = Day(now);

        Assert.Equal(new ReserveResult(true, null, 10m, 4m), await day.ReserveAsync(NewId("s"), "a", 4m, 100m, Ct));
        Assert.Equal(new ReserveResult(true, null, 10m, 10m), await day.ReserveAsync(NewId("s"), "b", 6m, 100m, Ct));
        Assert.Equal(new ReserveResult(false, BudgetScope.Global, 10m, 10m), await day.ReserveAsync(NewId("s"), "c", 0.01m, 100m, Ct));

        var totals = await day.GetTotalsAsync(Ct);
        Assert.Equal(0m, totals.SpentUsd);
        Assert.Equal(10m, totals.ReservedUsd);
    }

    [Fact]
    public async Task Reserve_RefusesPastTheClientLimit_WhileOthersStillFit()
    {
        var now = await fixture.FreshMonthAsync();
        var day = Day(now);

        Assert.True((await day.ReserveAsync(NewId("s"), "a", 0.75m, 1m, Ct)).Granted);
        Assert.Equal(new ReserveResult(false, BudgetScope.Client, 1m, 0.75m), await day.ReserveAsync(NewId("s"), "a", 0.5m, 1m, Ct));
        Assert.True((await day.ReserveAsync(NewId("s"), "b", 0.5m, 1m, Ct)).Granted);
    }

    [Fact]
    public async Task Reserve_UnderConcurrency_NeverCrossesTheLimit()
    {
        var now = await fixture.FreshMonthAsync();
        var day = Day(now);

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => day.ReserveAsync($"s-{i}", $"c-{i % 7}", 0.25m, 100m, Ct)));

        Assert.Equal(40, results.Count(r => r.Granted));
        Assert.Equal(160, results.Count(r => r.RefusedBy == BudgetScope.Global));
        var snapshot = await day.GetSnapshotAsync(Ct);
        Assert.Equal(10m, snapshot.ReservedUsd);
        Assert.Equal(40, snapshot.Reservations.Count);
        Assert.Equal(10m, snapshot.Clients.Values.Sum(c => c.ReservedUsd));
    }

    [Fact]
    public async Task Thresholds_FireOncePerPeriod_AtTheConfiguredPercentages()
    {
        var now = await fixture.FreshMonthAsync();
        var day = Day(now);
        var month = Month(now);
        var dayName = BudgetPeriods.Day(now)[4..];
        var monthName = BudgetPeriods.Month(now)[6..];

        await day.ReserveAsync(NewId("s"), "a", 2.49m, 100m, Ct);
        Assert.Empty(ClusterFixture.Alerts.With($"budget:daily:{dayName}:"));
        await day.ReserveAsync(NewId("s"), "a", 0.01m, 100m, Ct);
        await day.ReserveAsync(NewId("s"), "a", 1m, 100m, Ct);
        await day.ReserveAsync(NewId("s"), "a", 1.5m, 100m, Ct);
        await day.ReserveAsync(NewId("s"), "a", 3m, 100m, Ct);

        var daily = ClusterFixture.Alerts.With($"budget:daily:{dayName}:");
        Assert.Equal([$"budget:daily:{dayName}:25", $"budget:daily:{dayName}:50"], daily.Select(a => a.Key));
        Assert.Equal([AlertSeverity.Warning, AlertSeverity.Critical], daily.Select(a => a.Severity));
        Assert.Equal("The daily budget for " + dayName + " has reached 25% utilization: $2.50 committed of $10.00.", daily[0].Message);

        await month.ReserveAsync(NewId("s"), "a", 50m, 1000m, Ct);
        await month.ReserveAsync(NewId("s"), "a", 29m, 1000m, Ct);
        await month.ReserveAsync(NewId("s"), "a", 1m, 1000m, Ct);
        await month.ReserveAsync(NewId("s"), "a", 5m, 1000m, Ct);

        var monthly = ClusterFixture.Alerts.With($"budget:monthly:{monthName}:");
        Assert.Equal([$"budget:monthly:{monthName}:50", $"budget:monthly:{monthName}:80"], monthly.Select(a => a.Key));
        Assert.Equal([50, 80], (await month.GetSnapshotAsync(Ct)).FiredThresholds);
    }

    [Fact]
    public async Task Restore_ReplacesTheState_AndRefusesAnotherPeriodsSnapshot()
    {
        var now = await fixture.FreshMonthAsync();
        var day = Day(now);
        await day.ReserveAsync("s-1", "a", 1m, 100m, Ct);
        var snapshot = await day.GetSnapshotAsync(Ct);
        await day.SettleAsync("s-1", 0.4m, Ct);

        await day.RestoreAsync(snapshot, Ct);

        var restored = await day.GetSnapshotAsync(Ct);
        Assert.Equal(1m, restored.ReservedUsd);
        Assert.Equal(0m, restored.SpentUsd);
        Assert.Equal(1m, restored.Reservations["s-1"].AmountUsd);
        var error = await Assert.ThrowsAsync<Anchor.Orleans.Grains.Interfaces.Errors.AnchorException>(() => Month(now).RestoreAsync(snapshot, Ct));
        Assert.Equal("invalid_argument", error.Code);
    }
}
