using System.Text.Json;
using System.Threading.Channels;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Live;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Live;

/// <summary>
/// One session's screencast (<c>Page.startScreencast</c> over a CDP session on its current tab), shared by everyone
/// watching it: it starts with the first viewer, follows the current tab, and stops with the last. Each viewer gets
/// the newest frames (a slow one skips frames rather than holding memory). Chromium's screencast may end without a word
/// when a navigation swaps the renderer, and a page that painted before it started sends nothing: so the screencast is
/// started again on every main-frame commit (a listener, not a silence check; the CDP session stays) and the loaded
/// page is captured once when no frame came; a new title or tab list on a still page is sent with the newest picture. It also carries a controlling person's
/// input to the tab (<c>Input.dispatch*</c>, scaled to the viewport).
/// </summary>
public sealed partial class LiveScreencast(LiveMetrics metrics, TimeProvider time, ILogger logger)
{
    /// <summary>Every CDP call is bounded: a hung renderer never holds a viewer or the grain.</summary>
    private static readonly TimeSpan CdpLimit = TimeSpan.FromSeconds(3);

    /// <summary>
    /// A screencast sends frames only when the page repaints: a still page just (re)started on gets one screenshot
    /// after this long, so the viewer never shows the tab it left.
    /// </summary>
    private static readonly TimeSpan FirstFrameWait = TimeSpan.FromMilliseconds(400);

    /// <summary>
    /// Frames are at most this size and JPEG quality: the viewer scales them to its window, and a smaller frame is
    /// cheaper to encode on a silo whose cores the sessions share (input is scaled by fractions, so size does not matter).
    /// </summary>
    private static readonly (int Width, int Height, int Quality) FrameSize = (1024, 768, 50);

    /// <summary>How often the tab list and title are read again (from the browser, not the page's script).</summary>
    private static readonly TimeSpan DetailsEvery = TimeSpan.FromMilliseconds(500);

    private readonly Lock _lock = new();
    private readonly List<Channel<LiveFrame>> _viewers = [];
    private readonly SemaphoreSlim _switching = new(1, 1);
    private ICDPSession? _cdp;
    private IPage? _on;
    private BrowserPage? _browser;
    private EventHandler<IFrame>? _onNavigated;
    private EventHandler<IPage>? _onLoaded;
    private double _width;
    private double _height;
    private volatile FrameDetails _details = new("", "", [], 0);
    private volatile byte[]? _lastJpeg;
    private volatile bool _awaitingFirst;
    private DateTimeOffset _startedAt;
    private DateTimeOffset _detailsAt;

    /// <summary>Whether a person's input is flagged on frames (the page shows who drives).</summary>
    public bool ControlHeld { get; set; }

    public int Viewers
    {
        get
        {
            lock (_lock)
            {
                return _viewers.Count;
            }
        }
    }

    /// <summary>A new viewer's frames (the newest two at most are kept for it).</summary>
    public ChannelReader<LiveFrame> Join()
    {
        var channel = Channel.CreateBounded<LiveFrame>(new BoundedChannelOptions(2) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_lock)
        {
            _viewers.Add(channel);
        }

        metrics.ViewerJoined();
        return channel.Reader;
    }

    /// <summary>A viewer left; the screencast stops with the last.</summary>
    public async Task LeaveAsync(ChannelReader<LiveFrame> reader)
    {
        int left;
        lock (_lock)
        {
            _viewers.RemoveAll(c => c.Reader == reader);
            left = _viewers.Count;
        }

        metrics.ViewerLeft();
        if (left == 0)
        {
            await _switching.WaitAsync();
            try
            {
                // A viewer may have joined while this one waited (a person reopening the view): it keeps the screencast.
                if (Viewers == 0)
                {
                    await StopAsync();
                }
            }
            finally
            {
                _switching.Release();
            }
        }
    }

    /// <summary>Makes sure the screencast shows <paramref name="browser"/>'s current tab, and refreshes its URL, title and tabs.</summary>
    public async Task FollowAsync(BrowserPage browser, CancellationToken cancellationToken)
    {
        if (browser.CurrentPage is not { } current || browser.IsGone)
        {
            return;
        }

        await _switching.WaitAsync(cancellationToken);
        try
        {
            // Another tab became current (a navigation within the tab is followed by its listener, at once).
            _browser = browser;
            if (!ReferenceEquals(current, _on) && Viewers > 0)
            {
                await StopAsync();
                await StartAsync(current, cancellationToken);
            }

            if (time.GetUtcNow() - _detailsAt >= DetailsEvery && await RefreshDetailsAsync(browser, current) && !_awaitingFirst && _cdp is not null)
            {
                Resend(); // A new title or tab on a still page: the last picture again, with them.
            }

            if (_awaitingFirst && _cdp is { } cdp && time.GetUtcNow() - _startedAt >= FirstFrameWait)
            {
                _awaitingFirst = false;
                await CaptureAsync(cdp);
            }
        }
        finally
        {
            _switching.Release();
        }
    }

    /// <summary>Dispatches one input event to the current tab; false when there is no tab to send it to.</summary>
    public async Task<bool> DispatchAsync(BrowserPage browser, LiveInput input, CancellationToken cancellationToken)
    {
        if (browser.CurrentPage is not { } current || browser.IsGone)
        {
            return false;
        }

        // The frame shows the viewport: the person's fractions are of its CSS size.
        var (width, height) = current.ViewportSize is { } size ? (size.Width, size.Height) : (_width, _height);
        try
        {
            return await LiveInputEvents.ApplyAsync(current, input, width, height).WaitAsync(CdpLimit, cancellationToken);
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
        {
            LogInputFailed(logger, ex.GetType().Name);
            return false;
        }
    }

    private async Task StartAsync(IPage page, CancellationToken cancellationToken)
    {
        var cdp = await page.Context.NewCDPSessionAsync(page).WaitAsync(CdpLimit, cancellationToken);
        cdp.Event("Page.screencastFrame").OnEvent += (_, e) => OnFrame(cdp, e);
        _cdp = cdp;
        _lastJpeg = null;
        if (!ReferenceEquals(page, _on))
        {
            _onNavigated = (_, frame) => OnNavigated(page, frame);
            _onLoaded = (_, _) => _ = OnLoadedAsync(page);
            page.FrameNavigated += _onNavigated;
            page.Load += _onLoaded;
        }

        _on = page;
        await StartScreencastAsync(page, cdp, cancellationToken);
    }

    /// <summary>Starts <paramref name="cdp"/>'s screencast on <paramref name="page"/> as it is now.</summary>
    private async Task StartScreencastAsync(IPage page, ICDPSession cdp, CancellationToken cancellationToken)
    {
        _startedAt = time.GetUtcNow();
        _awaitingFirst = true;
        if (_browser is { } browser)
        {
            // Chromium sends the tab as it is at once: that frame carries its URL, title and tabs.
            await RefreshDetailsAsync(browser, page);
        }

        await cdp.SendAsync("Page.startScreencast", new Dictionary<string, object>
        {
            ["format"] = "jpeg",
            ["quality"] = FrameSize.Quality,
            ["maxWidth"] = FrameSize.Width,
            ["maxHeight"] = FrameSize.Height,
            ["everyNthFrame"] = 1,
        }).WaitAsync(CdpLimit, cancellationToken);
        LogStarted(logger);
    }

    /// <summary>On Playwright's thread: a main-frame commit starts the screencast again on the new document, at once.</summary>
    private void OnNavigated(IPage page, IFrame frame)
    {
        if (ReferenceEquals(frame, page.MainFrame))
        {
            _ = OnPageAsync(page, restart: true);
        }
    }

    /// <summary>On Playwright's thread: a loaded page that sent no frame since the commit is captured once.</summary>
    private Task OnLoadedAsync(IPage page) => OnPageAsync(page, restart: false);

    private async Task OnPageAsync(IPage page, bool restart)
    {
        await _switching.WaitAsync();
        try
        {
            if (!ReferenceEquals(page, _on) || Viewers == 0)
            {
                return; // Another tab is shown now, or nobody watches.
            }

            if (restart && _cdp is { } current)
            {
                // The same CDP session follows the tab across renderers: only the screencast itself starts again.
                await SendQuietlyAsync(current, "Page.stopScreencast");
                await StartScreencastAsync(page, current, CancellationToken.None);
            }
            else if (restart)
            {
                await StartAsync(page, CancellationToken.None);
            }
            else if (_browser is { } browser && (await RefreshDetailsAsync(browser, page) || _awaitingFirst) && _cdp is { } cdp)
            {
                if (_awaitingFirst || _lastJpeg is null)
                {
                    _awaitingFirst = false;
                    await CaptureAsync(cdp); // Nothing painted since the commit: one screenshot.
                }
                else
                {
                    Resend(); // The loaded page's title: the newest picture again, with it (no encode in Chromium).
                }
            }
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
        {
            LogRestartFailed(logger, ex.GetType().Name);
        }
        finally
        {
            _switching.Release();
        }
    }

    /// <summary>Reads the current tab's URL and title and the tab list, as the next frames carry them; true when they changed.</summary>
    private async Task<bool> RefreshDetailsAsync(BrowserPage browser, IPage current)
    {
        _detailsAt = time.GetUtcNow();
        var tabs = browser.Tabs();
        // An array, not a collection expression: frames cross silos, and Orleans cannot serialize the compiler's read-only list.
        var details = new FrameDetails(current.Url, await TitleAsync(current), tabs.Select(t => t.Page.Url).ToArray(), Math.Max(0, tabs.ToList().FindIndex(t => t.Current)));
        var before = _details;
        _details = details;
        return details.Url != before.Url || details.Title != before.Title || details.Current != before.Current || !details.Tabs.SequenceEqual(before.Tabs);
    }

    /// <summary>Stops the screencast and listening to its tab.</summary>
    private async Task StopAsync()
    {
        if (_on is { } page)
        {
            page.FrameNavigated -= _onNavigated;
            page.Load -= _onLoaded;
            _on = null;
        }

        if (_cdp is not { } cdp)
        {
            return;
        }

        _cdp = null;
        await SendQuietlyAsync(cdp, "Page.stopScreencast");
        await DetachQuietlyAsync(cdp);
        LogStopped(logger);
    }

    private static async Task SendQuietlyAsync(ICDPSession cdp, string method)
    {
        try
        {
            await cdp.SendAsync(method).WaitAsync(CdpLimit);
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
        {
            // The tab or its context is gone already; nothing to stop.
        }
    }

    private static async Task DetachQuietlyAsync(ICDPSession cdp)
    {
        try
        {
            await cdp.DetachAsync().WaitAsync(CdpLimit);
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
        {
            // Detached with its target.
        }
    }

    private async Task<string> TitleAsync(IPage page)
    {
        // The browser's own record of the target: a page whose script spins cannot hold this call.
        if (_cdp is not { } cdp || !ReferenceEquals(page, _on))
        {
            return _details.Title;
        }

        try
        {
            var info = await cdp.SendAsync("Target.getTargetInfo").WaitAsync(CdpLimit);
            return info is { } json && json.TryGetProperty("targetInfo", out var target) && target.TryGetProperty("title", out var title)
                ? title.GetString() ?? ""
                : "";
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
        {
            return _details.Title;
        }
    }

    /// <summary>On Playwright's thread: acknowledges the frame (so Chromium sends the next) and hands it to every viewer.</summary>
    private void OnFrame(ICDPSession cdp, JsonElement? e)
    {
        if (e is not { } frame || !frame.TryGetProperty("data", out var data) || !frame.TryGetProperty("sessionId", out var id))
        {
            return;
        }

        _ = AckAsync(cdp, id.GetInt32());
        _awaitingFirst = false;
        var captured = time.GetUtcNow();
        if (frame.TryGetProperty("metadata", out var meta))
        {
            if (meta.TryGetProperty("deviceWidth", out var w) && meta.TryGetProperty("deviceHeight", out var h))
            {
                _width = w.GetDouble();
                _height = h.GetDouble();
            }

            if (meta.TryGetProperty("timestamp", out var ts))
            {
                captured = DateTimeOffset.FromUnixTimeMilliseconds((long)(ts.GetDouble() * 1000));
            }
        }

        Broadcast(data.GetBytesFromBase64(), captured);
    }

    /// <summary>One screenshot of the tab, sent as a frame (the screencast had nothing new to send).</summary>
    private async Task CaptureAsync(ICDPSession cdp)
    {
        try
        {
            var shot = await cdp.SendAsync("Page.captureScreenshot", new Dictionary<string, object> { ["format"] = "jpeg", ["quality"] = FrameSize.Quality }).WaitAsync(CdpLimit);
            if (shot is { } json && json.TryGetProperty("data", out var data))
            {
                Broadcast(data.GetBytesFromBase64(), time.GetUtcNow());
            }
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
        {
            LogAckFailed(logger, ex.GetType().Name);
        }
    }

    /// <summary>The newest picture again, with the tab's current URL, title and tabs.</summary>
    private void Resend()
    {
        if (_lastJpeg is { } jpeg)
        {
            Broadcast(jpeg, time.GetUtcNow());
        }
    }

    private void Broadcast(byte[] jpeg, DateTimeOffset captured)
    {
        _lastJpeg = jpeg;
        var details = _details;
        var live = new LiveFrame(jpeg, details.Url, details.Title, details.Tabs, details.Current, captured, ControlHeld);
        lock (_lock)
        {
            foreach (var viewer in _viewers)
            {
                viewer.Writer.TryWrite(live);
            }
        }
    }

    private async Task AckAsync(ICDPSession cdp, int frameId)
    {
        try
        {
            await cdp.SendAsync("Page.screencastFrameAck", new Dictionary<string, object> { ["sessionId"] = frameId }).WaitAsync(CdpLimit);
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
        {
            LogAckFailed(logger, ex.GetType().Name);
        }
    }

    private sealed record FrameDetails(string Url, string Title, IReadOnlyList<string> Tabs, int Current);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Live screencast started")]
    private static partial void LogStarted(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Live screencast stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The live screencast could not follow a navigation ({Error})")]
    private static partial void LogRestartFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A person's input could not be dispatched ({Error})")]
    private static partial void LogInputFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A screencast frame could not be acknowledged ({Error})")]
    private static partial void LogAckFailed(ILogger logger, string error);
}
