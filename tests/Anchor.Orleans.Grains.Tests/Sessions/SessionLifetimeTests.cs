using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions;
using Anchor.Orleans.Grains.Sessions.Lifetime;
using Microsoft.Extensions.Time.Testing;
using static Anchor.Orleans.Grains.Tests.Sessions.SessionTestParts;

namespace Anchor.Orleans.Grains.Tests.Sessions;

/// <summary>A session's lifetime on a fake clock: its maximum duration, idleness, and the minutes it must hold money for.</summary>
public sealed class SessionLifetimeTests
{
    private readonly FakeTimeProvider _time = new(T0);

    private SessionLifetime NewLifetime(int idleSeconds = 120, int maxSeconds = 300)
    {
        var lifetime = new SessionLifetime(_time, new Fixed<SessionsOptions>(new SessionsOptions { IdleTimeoutSeconds = idleSeconds, MaxDurationSeconds = maxSeconds }));
        lifetime.Begin(T0.AddSeconds(maxSeconds));
        return lifetime;
    }

    [Fact]
    public void Tick_IsAQuarterOfTheShorterLimit_BetweenAQuarterSecondAndFiveSeconds()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), NewLifetime(idleSeconds: 120, maxSeconds: 300).Tick);
        Assert.Equal(TimeSpan.FromSeconds(2.5), NewLifetime(idleSeconds: 60, maxSeconds: 10).Tick);
        Assert.Equal(TimeSpan.FromSeconds(0.25), NewLifetime(idleSeconds: 1, maxSeconds: 300).Tick);
    }

    [Fact]
    public void Check_EndsAnIdleSessionAtItsIdleTimeout_UnlessACallIsUnderWay()
    {
        var lifetime = NewLifetime(idleSeconds: 120);
        _time.Advance(TimeSpan.FromSeconds(30));
        lifetime.Touch();

        var before = lifetime.Check(T0.AddSeconds(149), actionRunning: false, callsInProgress: false);
        var at = lifetime.Check(T0.AddSeconds(150), actionRunning: false, callsInProgress: false);
        var calling = lifetime.Check(T0.AddSeconds(150), actionRunning: false, callsInProgress: true);
        var running = lifetime.Check(T0.AddSeconds(150), actionRunning: true, callsInProgress: true);

        Assert.Equal(T0.AddSeconds(30), lifetime.LastActivity);
        Assert.Equal((LifetimeCheck.Accrue, LifetimeCheck.Idle, LifetimeCheck.Accrue, LifetimeCheck.Busy), (before, at, calling, running));
    }

    [Fact]
    public void Check_EndsASessionAtItsMaximumDuration_EvenWhileAnActionRuns()
    {
        var lifetime = NewLifetime(maxSeconds: 300);

        Assert.Equal(LifetimeCheck.Busy, lifetime.Check(T0.AddSeconds(299), actionRunning: true, callsInProgress: true));
        Assert.Equal(LifetimeCheck.TimedOut, lifetime.Check(T0.AddSeconds(300), actionRunning: true, callsInProgress: true));
    }

    [Fact]
    public async Task DueEnd_HoldsMoneyForTheMinutesBetweenActions_AndEndsWhenTheBudgetIsSpent()
    {
        var lifetime = NewLifetime();
        var held = new List<DateTimeOffset>();
        _time.Advance(TimeSpan.FromSeconds(42));

        var open = await lifetime.DueEndAsync(false, false, (now, _) => { held.Add(now); return Task.CompletedTask; }, TestContext.Current.CancellationToken);
        var spent = await lifetime.DueEndAsync(false, false, (_, _) => throw new AnchorException(ErrorCodes.BudgetExceeded, "budget_exceeded: spent."), TestContext.Current.CancellationToken);
        var busy = await lifetime.DueEndAsync(true, true, (_, _) => throw new InvalidOperationException("not asked while an action runs"), TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(120));
        var idle = await lifetime.DueEndAsync(false, false, (_, _) => Task.CompletedTask, TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(138));
        var timedOut = await lifetime.DueEndAsync(true, true, (_, _) => Task.CompletedTask, TestContext.Current.CancellationToken);

        Assert.Equal([T0.AddSeconds(42)], held);
        Assert.Equal(((SessionEndReason?)null, (SessionEndReason?)SessionEndReason.Budget, (SessionEndReason?)null), (open, spent, busy));
        Assert.Equal((SessionEndReason.Idle, SessionEndReason.TimedOut), (idle!.Value, timedOut!.Value));
    }
}
