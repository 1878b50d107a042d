using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Browser.Downloads;
using Anchor.Orleans.Grains.Browser.Egress;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Telemetry;
using Anchor.Orleans.Grains.Tools;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// One session's browser context: its lifetime, and the frame every <see cref="BrowserAction"/> runs in (the handler
/// its tool family declares, found in <see cref="BrowserToolTable"/>; failures translated to stable codes). Every Playwright
/// call runs under the call's <see cref="ActionDeadline"/>; a page whose script no longer lets it answer is
/// replaced after a timeout, a crashed page is replaced at the next call, and closing the context interrupts
/// whatever runs. The network path is <see cref="NetworkGuard"/>, the pages are <see cref="PageSet"/>, the
/// wording is <see cref="PageText"/>. Not thread-safe: its grain runs one action at a time.
/// </summary>
public sealed partial class BrowserPage : IAsyncDisposable
{
    /// <summary>Fetches the egress proxy's probe, so the context holds its credentials before any page runs.</summary>
    private const string AuthProbeScript = "u => fetch(u, { mode: 'no-cors', cache: 'no-store' }).then(() => true, () => false)";

    /// <summary>How long a page gets to answer a trivial script after a timeout before it counts as hung.</summary>
    internal static readonly TimeSpan HungProbe = TimeSpan.FromSeconds(1);

    /// <summary>How long after an element action a page that opens still counts as opened by it.</summary>
    private static readonly TimeSpan NewPageGrace = TimeSpan.FromSeconds(1);

    /// <summary>How long closing a context may take before the session stops waiting for it.</summary>
    private static readonly TimeSpan CloseLimit = TimeSpan.FromSeconds(3);

    private readonly IBrowserContext _context;
    private readonly EgressSession? _egress;
    private readonly NetworkGuard _guard;
    private readonly PageSet _pages;
    private readonly SessionDownloads _downloads;
    private readonly UrlPolicy _urls;
    private readonly IReadOnlyList<string> _allowedHosts;
    private readonly TimeSpan _elementTimeout;
    private readonly TimeProvider _time;
    private volatile bool _closed;

    private BrowserPage(IBrowserContext context, EgressSession? egress, NetworkGuard guard, PageSet pages, SessionDownloads downloads, UrlPolicy urls, IReadOnlyList<string> allowedHosts, TimeSpan elementTimeout, TimeProvider time)
    {
        _downloads = downloads;
        _context = context;
        _egress = egress;
        _guard = guard;
        _pages = pages;
        _urls = urls;
        _allowedHosts = allowedHosts;
        _elementTimeout = elementTimeout;
        _time = time;
        context.Close += (_, _) => _closed = true;
    }

    public string? Url => _pages.Current?.Url;

    /// <summary>True once the context is gone (closed, or its browser crashed, was killed or disconnected).</summary>
    public bool IsGone => _closed || _context.Browser is { IsConnected: false };

    public int PageCount => _pages.Count;

    /// <summary>The tab actions run in, and the session's tabs in order (what a live view shows).</summary>
    public IPage? CurrentPage => _pages.Current;

    public IReadOnlyList<(IPage Page, bool Current)> Tabs() => _pages.Tabs();

    public static async Task<BrowserPage> OpenAsync(
        BrowserEngine engine, UrlPolicy urls, IReadOnlyList<string> allowedHosts, BrowserOptions browser, TimeSpan actionLimit, TimeProvider time, CancellationToken cancellationToken, string? storageState = null)
    {
        var (context, egress) = await engine.NewContextAsync(allowedHosts, storageState, cancellationToken);
        try
        {
            // Fallbacks only: every call below passes the time left of its own deadline.
            context.SetDefaultNavigationTimeout((float)actionLimit.TotalMilliseconds);
            context.SetDefaultTimeout((float)actionLimit.TotalMilliseconds);
            await context.AddInitScriptAsync(ConsoleThrottle.Script).WaitAsync(actionLimit, cancellationToken);
            // A launched browser's traffic all passes the egress proxy, which checks it; only a remote one is routed through the guard.
            var guard = new NetworkGuard(urls, allowedHosts, egress);
            if (guard.Routes)
            {
                await context.RouteAsync("**/*", guard.HandleAsync).WaitAsync(actionLimit, cancellationToken);
            }

            var page = await context.NewPageAsync().WaitAsync(actionLimit, cancellationToken);
            if (egress is not null && !await page.EvaluateAsync<bool>(AuthProbeScript, EgressProxy.AuthProbe.AbsoluteUri).WaitAsync(actionLimit, cancellationToken))
            {
                throw new AnchorException(ErrorCodes.BrowserError, "the browser could not authenticate with this silo's egress proxy.");
            }

            var pages = new PageSet(context, page, browser.MaxPagesPerSession);
            var downloads = new SessionDownloads(browser.MaxDownloadBytes);
            pages.Download += downloads.Started;
            return new BrowserPage(context, egress, guard, pages, downloads, urls, allowedHosts, TimeSpan.FromSeconds(browser.ElementTimeoutSeconds), time);
        }
        catch
        {
            await CloseQuietlyAsync(context);
            egress?.Dispose();
            throw;
        }
    }

    /// <summary>The context's cookies and localStorage as Playwright's storage state (JSON), within <paramref name="limit"/>.</summary>
    public Task<string> StorageStateAsync(TimeSpan limit, CancellationToken cancellationToken) =>
        _context.StorageStateAsync().WaitAsync(limit, cancellationToken);

    /// <summary>Runs one action within <paramref name="deadline"/>; Playwright failures become <see cref="AnchorException"/>s with stable codes.</summary>
    public async Task<ActionResult> RunAsync(BrowserAction action, ActionDeadline deadline)
    {
        using var activity = AnchorTracing.Source.StartActivity($"browser {action.Name}");
        activity?.SetTag("anchor.browser.action", action.Name);
        var handler = BrowserToolTable.Find(action);
        var leaves = false;
        if (handler?.Destination(action) is { Length: > 0 } url)
        {
            activity?.SetTag("url.full", AnchorTracing.SafeUrl(url));
            leaves = true;
        }

        _guard.Reset();
        _guard.ActionToken = deadline.Token;
        IPage? page = null;
        try
        {
            // A page that went past its session's byte budget between calls is reported once, unless the agent leaves it now;
            // one that went past it during this action is reported with it.
            if (_guard.TakeOverrun() is { } earlier && !leaves)
            {
                throw new AnchorException(earlier.Code, earlier.Message);
            }

            page = await _pages.CurrentAsync(deadline);
            var result = await RunOnAsync(page, action, deadline);
            ThrowOverrun();
            try
            {
                return await _downloads.SettleAsync(result, deadline);
            }
            catch (AnchorException)
            {
                ThrowOverrun(); // What stopped the download: the session's spent byte budget, or a cut-off response.
                throw;
            }
        }
        catch (Exception ex) when (ex is TimeoutException || ex is PlaywrightException && deadline.Token.IsCancellationRequested)
        {
            // Past the deadline every failure is the timeout, whichever wait noticed it first (a navigation's own
            // fetch, stopped with the action, fails its request before Playwright's timer fires).
            var hung = page is not null && !_closed && await IsHungAsync(page);
            if (hung)
            {
                _pages.Discard("The page stopped answering (a script kept it busy) and was closed; the session continues on a fresh blank page — navigate again.");
            }

            if (_guard.TakeOverrun() is { } overrun)
            {
                // What kept the action from finishing: a cut-off response, or the session's spent byte budget.
                throw new AnchorException(overrun.Code, overrun.Message + (hung ? " The page stopped answering and was replaced by a blank page." : ""));
            }

            throw new AnchorException(
                ErrorCodes.Timeout,
                $"{action.Name} did not finish within {deadline.Limit.TotalSeconds:0.#} s ({BrowserEngine.FirstLine(ex.Message)}).{(hung ? " The page stopped answering and was replaced by a blank page." : "")}");
        }
        catch (PlaywrightException ex)
        {
            if (page is not null && BrowserErrors.IsCrash(ex.Message))
            {
                _pages.MarkCrashed(page);
            }

            throw BrowserErrors.From(action.Name, ex.Message, _guard.FailureFor(ex.Message));
        }
        catch (OperationCanceledException) when (deadline.Token.IsCancellationRequested)
        {
            // A wait ended by the deadline (or by the session closing, which the grain reports as such).
            throw new AnchorException(ErrorCodes.Timeout, $"{action.Name} did not finish within {deadline.Limit.TotalSeconds:0.#} s.");
        }
        finally
        {
            _guard.ActionToken = default;
            // A tab that an element action opened may appear just after it returned; the page's own popups never lead.
            _pages.FollowNewPagesFor(handler?.MayOpenTab(action) == true ? NewPageGrace : TimeSpan.Zero);
        }
    }

    private void ThrowOverrun()
    {
        if (_guard.TakeOverrun() is { } overrun)
        {
            throw new AnchorException(overrun.Code, overrun.Message);
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on <paramref name="page"/> with the handler its tool family declares. A navigation
    /// that turned into a download completed: the download is settled when the call ends.
    /// </summary>
    internal async Task<ActionResult> RunOnAsync(IPage page, BrowserAction action, ActionDeadline deadline)
    {
        var handler = BrowserToolTable.Find(action) ?? throw new AnchorException(ErrorCodes.InvalidArgument, $"unknown action {action.Name}.");
        try
        {
            return await handler.Run(this, page, action, deadline);
        }
        catch (PlaywrightException ex) when (DownloadRules.IsDownloadStart(ex.Message))
        {
            await deadline.Bound(_downloads.StartedAsync());
            return await StateAsync(page, deadline, "The URL started a download.");
        }
    }

    /// <summary>Whether the page no longer answers even a trivial script (its main thread is stuck).</summary>
    private async Task<bool> IsHungAsync(IPage page)
    {
        try
        {
            await page.EvaluateAsync<int>("1").WaitAsync(HungProbe, _time);
            return false;
        }
        catch (TimeoutException)
        {
            return true;
        }
        catch (PlaywrightException ex)
        {
            if (BrowserErrors.IsCrash(ex.Message))
            {
                _pages.MarkCrashed(page, note: true); // The timeout was the crash: the next action starts on a fresh page.
            }

            return false; // Closed or crashed: the page set deals with it.
        }
    }

    internal NetworkGuard Guard => _guard;

    /// <summary>The session's browser context (its tracing is started and stopped by the session's recorder).</summary>
    internal IBrowserContext Context => _context;

    /// <summary>The files the session downloaded and holds until it ends.</summary>
    internal SessionDownloads Downloads => _downloads;

    /// <summary>The session's tabs: the current page, new tabs, notes for the agent, dialogs and file choosers.</summary>
    internal PageSet Pages => _pages;

    internal TimeProvider Time => _time;

    /// <summary>The URL as the session's policy allows it (url_blocked otherwise).</summary>
    internal Task<Uri> CheckUrlAsync(string url, CancellationToken cancellationToken) => _urls.CheckAsync(url, _allowedHosts, cancellationToken);

    /// <summary>The page state after an action: URL, title, notes and the accessibility snapshot, led by <paramref name="result"/>.</summary>
    internal async Task<ActionResult> StateAsync(IPage page, ActionDeadline deadline, string? result) =>
        new(await PageText.PageStateAsync(page, deadline, result, _pages.TakeNotes()));

    internal ActionResult Inspect(string text) => new(PageText.WithNotes(text, _pages.TakeNotes()));

    internal SearchBudget SearchBudgetOf(ActionDeadline deadline) => new(_time, deadline.Token, SearchBudget.DefaultTotal);

    internal float ElementTimeout(ActionDeadline deadline) => Math.Min(deadline.TimeoutMs, (float)_elementTimeout.TotalMilliseconds);

    internal static ILocator Resolve(IPage page, ElementTarget element)
    {
        var target = element.Target.Trim();
        if (target.Length == 0)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "target is empty; pass a ref from browser_snapshot or a selector.");
        }

        return RefPattern().IsMatch(target) ? page.GetByRef(target) : page.Locator(target);
    }

    /// <summary>Closes the context, which ends every Playwright call still running on it; bounded, never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        _guard.Close();
        await CloseQuietlyAsync(_context);
        _downloads.Dispose(); // After the context: no download lands any more.
        _egress?.Dispose(); // After the context: its last requests end with it, not cut mid-way by a refused proxy.
        _closed = true;
    }

    private static async Task CloseQuietlyAsync(IBrowserContext context)
    {
        try
        {
            await context.CloseAsync().WaitAsync(CloseLimit);
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException or ObjectDisposedException)
        {
            // The context may be gone with its browser, or its renderer stuck; the browser reaps it.
        }
    }

    [GeneratedRegex("^(f[0-9]+)?e[0-9]+$")]
    private static partial Regex RefPattern();
}
