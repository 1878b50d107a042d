using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Anchor.Orleans.Grains.Interfaces.Live;
using Anchor.Orleans.Grains.Live;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>
/// The live view of a session (kept beside the grain's own file; see <see cref="LiveScreencast"/> and <see cref="LiveControlGate"/>).
/// The watch is an interleaving <c>IAsyncEnumerable</c>: frames flow to whichever silo serves the viewer, the
/// screencast runs only while an enumeration is open, and disposing it (the viewer's socket closed) stops it.
/// </summary>
public sealed partial class BrowserSessionGrain
{
    /// <summary>How long a watch waits for a frame before it looks again at the session (ended? another tab?).</summary>
    private static readonly TimeSpan WatchTick = TimeSpan.FromMilliseconds(250);

    private LiveScreencast? _screencast;
    private LiveControlGate? _control;

    private ILogger LiveLogger => ServiceProvider.GetRequiredService<ILogger<LiveScreencast>>();

    private LiveScreencast Screencast => _screencast ??= new LiveScreencast(
        ServiceProvider.GetRequiredService<LiveMetrics>(), ServiceProvider.GetRequiredService<TimeProvider>(), LiveLogger);

    /// <summary>Whether a person holds the session: the agent's actions wait for them (the one call in the action path).</summary>
    private LiveControlGate Control => _control ??= new LiveControlGate(
        ServiceProvider.GetRequiredService<TimeProvider>(), outcome => { ServiceProvider.GetRequiredService<LiveMetrics>().Handoff(outcome); Record(Timeline.TimelineEvents.HandoffCompleted, outcome); });

    public async IAsyncEnumerable<LiveFrame> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (_page is null || _ending is not null)
        {
            yield break;
        }

        var time = ServiceProvider.GetRequiredService<TimeProvider>();
        Record(Timeline.TimelineEvents.LiveOpened, "watching");
        var cast = Screencast;
        var frames = cast.Join();
        try
        {
            while (!cancellationToken.IsCancellationRequested && _page is { } page && _ending is null)
            {
                await cast.FollowAsync(page, cancellationToken);
                if (await NextFrameAsync(frames, time, cancellationToken) is { } frame)
                {
                    yield return frame;
                }
            }
        }
        finally
        {
            await cast.LeaveAsync(frames);
        }
    }

    private static async Task<LiveFrame?> NextFrameAsync(ChannelReader<LiveFrame> frames, TimeProvider time, CancellationToken cancellationToken)
    {
        if (frames.TryRead(out var ready))
        {
            return ready;
        }

        using var tick = new CancellationTokenSource(WatchTick, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(tick.Token, cancellationToken);
        try
        {
            return await frames.WaitToReadAsync(either.Token) && frames.TryRead(out var frame) ? frame : null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    public Task<bool> SetControlAsync(string holder, bool held, DateTimeOffset? until = null, string? outcome = null, CancellationToken cancellationToken = default)
    {
        if (_page is null || _ending is not null)
        {
            return Task.FromResult(false);
        }

        var changed = held ? Control.Take(holder, until) : Control.Release(holder, outcome ?? "completed");
        Screencast.ControlHeld = Control.IsHeld;
        if (changed)
        {
            _lifetime.Touch();
            LogControl(LiveLogger, SessionId, held ? "control_taken" : outcome is null ? "control_released" : $"handoff_{outcome}");
            Record(held ? Timeline.TimelineEvents.ControlTaken : Timeline.TimelineEvents.ControlReleased, held ? "taken" : "released"); // A hand-off's end: handoff_completed, from the gate.
        }

        return Task.FromResult(changed);
    }

    public async Task<bool> LiveInputAsync(LiveInput input, CancellationToken cancellationToken = default)
    {
        if (_page is not { } page || _ending is not null || !Control.IsHeld)
        {
            return false;
        }

        _lifetime.Touch(); // A person at work keeps the session from idling out.
        return await Screencast.DispatchAsync(page, input, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} live: {LiveEvent}")]
    private static partial void LogControl(ILogger logger, string sessionId, string liveEvent);
}
