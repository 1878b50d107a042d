using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// The one limit a tool call runs under: every Playwright call inside it gets the time that is left as its own
/// <c>Timeout</c> (never 0, which Playwright reads as "no limit"), and calls that take no timeout (evaluations,
/// titles, key presses) are abandoned when <see cref="Token"/> fires. The token also fires when the session is
/// closed under the call, so a close never waits for the action, and when the caller cancels the call. It carries the
/// call's progress listener, if the caller gave one.
/// </summary>
public sealed class ActionDeadline : IDisposable
{
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationTokenSource _cts;
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _at;
    private readonly IActionProgress? _progress;

    public ActionDeadline(TimeSpan limit, TimeProvider time, CancellationToken interrupt, CancellationToken caller = default, IActionProgress? progress = null)
    {
        _time = time;
        _progress = progress;
        _at = time.GetUtcNow() + limit;
        Limit = limit;
        _timeout = new CancellationTokenSource(limit, time);
        _cts = CancellationTokenSource.CreateLinkedTokenSource(_timeout.Token, interrupt, caller);
    }

    /// <summary>The whole limit, for messages.</summary>
    public TimeSpan Limit { get; }

    public CancellationToken Token => _cts.Token;

    public TimeSpan Remaining => _at - _time.GetUtcNow() is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;

    /// <summary>Milliseconds left, at least 1 (Playwright reads 0 as "wait forever").</summary>
    public float TimeoutMs => (float)Math.Max(1, Math.Floor(Remaining.TotalMilliseconds));

    /// <summary>Waits for <paramref name="task"/> until the deadline; past it, throws <see cref="TimeoutException"/>.</summary>
    public async Task<T> Bound<T>(Task<T> task)
    {
        try
        {
            return await task.WaitAsync(Token);
        }
        catch (OperationCanceledException) when (Token.IsCancellationRequested)
        {
            Observe(task);
            throw new TimeoutException("the page did not answer before the deadline");
        }
    }

    /// <inheritdoc cref="Bound{T}(Task{T})"/>
    public async Task Bound(Task task)
    {
        try
        {
            await task.WaitAsync(Token);
        }
        catch (OperationCanceledException) when (Token.IsCancellationRequested)
        {
            Observe(task);
            throw new TimeoutException("the page did not answer before the deadline");
        }
    }

    /// <summary>Throws <c>timeout</c> if the deadline has passed (between steps of a task).</summary>
    public void ThrowIfExpired(string what)
    {
        if (Token.IsCancellationRequested)
        {
            throw new AnchorException(ErrorCodes.Timeout, $"{what} exceeded its limit of {Limit.TotalSeconds:0.#} s.");
        }
    }

    /// <summary>Tells the call's listener, if any, that a step finished: one-way, the action never waits for it.</summary>
    public void StepDone(TaskStepDone step)
    {
        if (_progress is not null)
        {
            Observe(_progress.StepDoneAsync(step));
        }
    }

    /// <summary>
    /// Lets a Playwright call nobody waits for any more fail quietly: an abandoned call, closing a page or answering
    /// a dialog may fail later (page closed, target crashed), and that exception is expected and unread.
    /// </summary>
    internal static void Observe(Task task) => task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);

    public void Dispose()
    {
        _cts.Dispose();
        _timeout.Dispose();
    }
}
