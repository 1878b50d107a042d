using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Sessions.Lifetime;

/// <summary>What a lifetime check asks of the session.</summary>
public enum LifetimeCheck
{
    /// <summary>An action is running: nothing to do until it ends.</summary>
    Busy,

    /// <summary>Past its maximum duration: end it, interrupting any action.</summary>
    TimedOut,

    /// <summary>No call for <c>Sessions:IdleTimeoutSeconds</c>: end it.</summary>
    Idle,

    /// <summary>Open between actions: its minutes cost money, so hold enough reserved for them.</summary>
    Accrue,
}

/// <summary>
/// How long a session may live: until its lease's maximum duration, and no longer than <c>Sessions:IdleTimeoutSeconds</c>
/// without a call. Checked by an interleaving grain timer, so a maximum duration is enforced while an action runs.
/// </summary>
public sealed class SessionLifetime(TimeProvider time, IOptionsMonitor<SessionsOptions> options)
{
    private IGrainTimer? _timer;

    public DateTimeOffset ExpiresAt { get; private set; }

    public DateTimeOffset LastActivity { get; private set; }

    /// <summary>How often the lifetime is checked: a quarter of the shorter limit, between 0.25 and 5 seconds.</summary>
    public TimeSpan Tick
    {
        get
        {
            var o = options.CurrentValue;
            return TimeSpan.FromSeconds(Math.Clamp(Math.Min(o.IdleTimeoutSeconds, o.MaxDurationSeconds) / 4.0, 0.25, 5));
        }
    }

    /// <summary>Starts a lifetime that ends at <paramref name="expiresAt"/>, active now.</summary>
    public void Begin(DateTimeOffset expiresAt)
    {
        ExpiresAt = expiresAt;
        Touch();
    }

    /// <summary>Records a call: idleness counts from now.</summary>
    public void Touch() => LastActivity = time.GetUtcNow();

    /// <summary>
    /// Runs <paramref name="check"/> every <see cref="Tick"/> on <paramref name="grain"/>, interleaved with its calls and
    /// keeping the activation alive, until <see cref="Stop"/>.
    /// </summary>
    public void Watch(IGrainBase grain, Func<CancellationToken, Task> check)
    {
        var tick = Tick;
        _timer?.Dispose();
        _timer = grain.RegisterGrainTimer(check, new GrainTimerCreationOptions(tick, tick) { KeepAlive = true, Interleave = true });
    }

    public void Stop()
    {
        _timer?.Dispose();
        _timer = null;
    }

    /// <summary>
    /// What ends the session now, if anything: its maximum duration, idleness, or, between actions, a budget too spent to
    /// hold its open minutes (<paramref name="holdMinutes"/> reserves what it has run up by the time given).
    /// </summary>
    public async Task<SessionEndReason?> DueEndAsync(
        bool actionRunning, bool callsInProgress, Func<DateTimeOffset, CancellationToken, Task> holdMinutes, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        switch (Check(now, actionRunning, callsInProgress))
        {
            case LifetimeCheck.TimedOut:
                return SessionEndReason.TimedOut;
            case LifetimeCheck.Idle:
                return SessionEndReason.Idle;
            case LifetimeCheck.Accrue:
                try
                {
                    // Open minutes cost money too: hold enough for them, or end the session when the budget is spent.
                    await holdMinutes(now, cancellationToken);
                }
                catch (AnchorException ex) when (ex.Code == ErrorCodes.BudgetExceeded)
                {
                    return SessionEndReason.Budget;
                }

                return null;
            default:
                return null;
        }
    }

    /// <summary>
    /// What the session must do at <paramref name="now"/>. A call in progress (even one still reserving, with no action
    /// running yet) is not idleness.
    /// </summary>
    public LifetimeCheck Check(DateTimeOffset now, bool actionRunning, bool callsInProgress)
    {
        if (now >= ExpiresAt)
        {
            return LifetimeCheck.TimedOut;
        }

        if (actionRunning)
        {
            return LifetimeCheck.Busy;
        }

        return !callsInProgress && now - LastActivity >= TimeSpan.FromSeconds(options.CurrentValue.IdleTimeoutSeconds)
            ? LifetimeCheck.Idle
            : LifetimeCheck.Accrue;
    }
}
