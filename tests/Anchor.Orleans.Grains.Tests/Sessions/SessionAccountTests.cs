using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions;
using Anchor.Orleans.Grains.Sessions.Billing;
using static Anchor.Orleans.Grains.Tests.Sessions.SessionTestParts;

namespace Anchor.Orleans.Grains.Tests.Sessions;

/// <summary>A session's money without a browser: accrual, reservation top-ups, the price of a call and the settlement.</summary>
public sealed class SessionAccountTests
{
    private static readonly PricingOptions Pricing = new() { SessionMinuteUsd = 0.05m, ActionUsd = 0.002m, SessionReserveUsd = 0.25m };

    private readonly Budget _budget = new();

    private SessionAccount NewAccount(decimal reservedUsd = 0.25m)
    {
        var account = new SessionAccount("s1", _budget, new Fixed<PricingOptions>(Pricing));
        account.Open("c1", T0, reservedUsd);
        return account;
    }

    [Fact]
    public void Accrued_AddsOpenMinutesToTheActionsCharged()
    {
        var account = NewAccount();
        account.Charge(1, 0.002m);

        Assert.Equal(0.077m, account.Accrued(T0.AddSeconds(90))); // 1.5 min × 0.05 + 0.002
        Assert.Equal(0.002m, account.Accrued(T0.AddSeconds(-5))); // Never negative minutes.
    }

    [Fact]
    public void Quote_PricesATaskByItsStepsAndItsFirstNavigation()
    {
        var account = NewAccount();

        var task = new RunTaskAction("https://example.test/", [new SnapshotAction(), new SnapshotAction(), new SnapshotAction()]);

        Assert.Equal((1, 0.002m), account.Quote(new NavigateAction("https://example.test/")));
        Assert.Equal((4, 0.008m), account.Quote(task));
    }

    [Fact]
    public async Task EnsureReserved_TopsUpInReserveSteps_OnlyWhenNeeded()
    {
        var account = NewAccount();

        var within = await account.EnsureReservedAsync(0.25m, TestContext.Current.CancellationToken);
        var above = await account.EnsureReservedAsync(0.51m, TestContext.Current.CancellationToken);

        Assert.False(within);
        Assert.True(above);
        Assert.Equal(0.75m, account.ReservedUsd); // 0.26 more needed: two steps of 0.25.
        Assert.Equal([(SessionBilling.Id("s1", T0), "c1", T0, 0.5m)], _budget.Reserved);
    }

    [Fact]
    public async Task Close_SettlesAtTheCostCappedByTheReservation_AndChargesTheRestBesideTheActions()
    {
        var account = NewAccount(reservedUsd: 0.25m);
        account.Charge(2, 0.004m);

        var early = account.Close(T0.AddMinutes(2)); // 0.1 + 0.004
        var late = account.Close(T0.AddMinutes(10)); // 0.504, capped at what is held
        await account.SettleAsync(late);

        Assert.Equal((0.104m, 0.25m), (early, late));
        Assert.Equal(0.246m, account.CloseChargeUsd);
        Assert.Equal([(SessionBilling.Id("s1", T0), (decimal?)0.25m)], _budget.Settled);
    }

    [Fact]
    public void Load_TakesACheckpointsFigures_ForAnOpeningOfItsOwnTime()
    {
        var account = NewAccount();
        var opened = T0.AddHours(-1);

        account.Load(new SessionCheckpoint { ClientId = "c2", Actions = 3, ActionsUsd = 0.006m, ReservedUsd = 0.5m }, opened);

        Assert.Equal(("c2", opened, 3, 0.006m, 0.5m, 0m), (account.ClientId, account.OpenedAt, account.Actions, account.ActionsUsd, account.ReservedUsd, account.CloseChargeUsd));
    }
}
