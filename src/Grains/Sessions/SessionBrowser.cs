using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Recording;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>
/// The browser side of one session activation: opens its page (a browser context limited to the client's allowed
/// hosts), runs one action at a time on it within <c>Sessions:ActionTimeoutSeconds</c>, lets a close interrupt that
/// action and wait for it to unwind, ends an action its caller cancelled, and closes the page.
/// </summary>
public sealed partial class SessionBrowser(
    string sessionId,
    BrowserEngine engine,
    UrlPolicy urls,
    ClientPolicies policies,
    SessionRecorder recorder,
    IOptionsMonitor<BrowserOptions> browser,
    IOptionsMonitor<SessionsOptions> sessions,
    TimeProvider time,
    ILogger logger)
{
    /// <summary>How long a close waits for an interrupted action to unwind before it settles regardless.</summary>
    private static readonly TimeSpan UnwindLimit = TimeSpan.FromSeconds(2);

    /// <summary>How long a cancelled action gets to end by its token before the tab its Playwright call runs on is closed.</summary>
    private static readonly TimeSpan CancelGrace = TimeSpan.FromMilliseconds(300);

    private CancellationTokenSource? _interrupt;
    private Task? _running;
    private TraceRecording? _trace;

    /// <summary>The name of the action running now, if any.</summary>
    public string? RunningAction { get; private set; }

    public bool IsRunning => _running is not null;

    /// <summary>One tool call's limit.</summary>
    public TimeSpan ActionLimit => TimeSpan.FromSeconds(sessions.CurrentValue.ActionTimeoutSeconds);

    /// <summary>
    /// Opens a page for <paramref name="clientId"/>, with a saved <paramref name="storageState"/> (cookies and storage) if
    /// given, traced from here on when the client records its sessions (a new chunk on each silo that opens it).
    /// </summary>
    public async Task<BrowserPage> OpenAsync(string clientId, string? storageState, CancellationToken cancellationToken)
    {
        var page = await BrowserPage.OpenAsync(engine, urls, policies.For(clientId).AllowedHosts, browser.CurrentValue, ActionLimit, time, cancellationToken, storageState);
        _trace = await recorder.StartAsync(page, sessionId, clientId, cancellationToken);
        return page;
    }

    /// <summary>
    /// Runs <paramref name="action"/> on <paramref name="page"/> within <see cref="ActionLimit"/>, or until <see cref="Interrupt"/>,
    /// or until the caller cancels (<paramref name="cancellationToken"/>): then the action ends within a second and the
    /// call throws <see cref="OperationCanceledException"/>. <paramref name="progress"/> hears of a task's steps.
    /// </summary>
    public async Task<ActionResult> RunAsync(BrowserPage page, BrowserAction action, IActionProgress? progress, CancellationToken cancellationToken)
    {
        using var interrupt = new CancellationTokenSource();
        var running = new TaskCompletionSource();
        _interrupt = interrupt;
        _running = running.Task;
        RunningAction = action.Name;
        try
        {
            using var deadline = new ActionDeadline(ActionLimit, time, interrupt.Token, cancellationToken, progress);
            var run = page.RunAsync(action, deadline);
            try
            {
                return await run.WaitAsync(cancellationToken);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                // However the action noticed (a wait cancelled, a bounded call timed out), the caller gave up.
                await AbandonAsync(page, action, run);
                throw new OperationCanceledException($"{action.Name} was cancelled by its caller.", cancellationToken);
            }
        }
        finally
        {
            _interrupt = null;
            _running = null;
            RunningAction = null;
            running.SetResult();
        }
    }

    /// <summary>
    /// Ends an action its caller cancelled. The deadline's token fired with the caller's, so waits and bounded calls end
    /// at once; a Playwright call still running under its own timeout (a click waiting for an element that never becomes
    /// actionable) takes no token, so its tab is closed as a hung page's is at the deadline, which fails it at once. The
    /// session goes on (on a fresh page when its tab was closed).
    /// </summary>
    private async Task AbandonAsync(BrowserPage page, BrowserAction action, Task run)
    {
        var closedTab = false;
        if (!await EndsWithinAsync(run, CancelGrace))
        {
            closedTab = true;
            page.Pages.Discard($"{action.Name} was cancelled while the page was still working on it, so its tab was closed; the session continues on a fresh blank page — navigate again.");
            await EndsWithinAsync(run, UnwindLimit);
        }

        ActionDeadline.Observe(run);
        LogCancelled(logger, sessionId, action.Name, closedTab);
    }

    private async Task<bool> EndsWithinAsync(Task task, TimeSpan limit) =>
        await Task.WhenAny(task, Task.Delay(limit, time)) == task;

    /// <summary>Cancels the running action, if any (closing the page then fails every Playwright call it makes at once).</summary>
    public void Interrupt() => _interrupt?.Cancel();

    /// <summary>Waits a little (<see cref="UnwindLimit"/>) for an interrupted action to unwind.</summary>
    public async Task UnwoundAsync()
    {
        if (_running is { } running)
        {
            try
            {
                await running.WaitAsync(UnwindLimit, time);
            }
            catch (TimeoutException)
            {
                LogUnwindSlow(logger, sessionId);
            }
        }
    }

    /// <summary>
    /// Stores <paramref name="page"/>'s trace, if it is recorded, and closes its browser context; false (logged) when
    /// closing failed, as when it is already gone with its browser.
    /// </summary>
    public async Task<bool> CloseAsync(BrowserPage page)
    {
        if (_trace is { } trace && trace.Page == page)
        {
            _trace = null;
            await recorder.StopAsync(trace);
        }

        try
        {
            await page.DisposeAsync();
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogContextCloseFailed(logger, sessionId, ex);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId}: {Action} cancelled by its caller; tab closed to end it: {ClosedTab}")]
    private static partial void LogCancelled(ILogger logger, string sessionId, string action, bool closedTab);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId}: the interrupted action did not unwind in time; settling regardless")]
    private static partial void LogUnwindSlow(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the browser context of session {SessionId} failed")]
    private static partial void LogContextCloseFailed(ILogger logger, string sessionId, Exception exception);
}
