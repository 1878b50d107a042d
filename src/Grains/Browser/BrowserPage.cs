using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Browser.Egress;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Telemetry;
using Anchor.Orleans.Grains.Tools;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// One session's browser context and how each <see cref="BrowserAction"/> is carried out on it. Every Playwright
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
    private static readonly TimeSpan HungProbe = TimeSpan.FromSeconds(1);

    /// <summary>How long after an element action a page that opens still counts as opened by it.</summary>
    private static readonly TimeSpan NewPageGrace = TimeSpan.FromSeconds(1);

    /// <summary>How long closing a context may take before the session stops waiting for it.</summary>
    private static readonly TimeSpan CloseLimit = TimeSpan.FromSeconds(3);

    private readonly IBrowserContext _context;
    private readonly EgressSession? _egress;
    private readonly NetworkGuard _guard;
    private readonly PageSet _pages;
    private readonly UrlPolicy _urls;
    private readonly IReadOnlyList<string> _allowedHosts;
    private readonly TimeSpan _elementTimeout;
    private readonly TimeProvider _time;
    private volatile bool _closed;

    private BrowserPage(IBrowserContext context, EgressSession? egress, NetworkGuard guard, PageSet pages, UrlPolicy urls, IReadOnlyList<string> allowedHosts, TimeSpan elementTimeout, TimeProvider time)
    {
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
                throw new AnchorException(ErrorCodes.BrowserError, "browser_error: the browser could not authenticate with this silo's egress proxy.");
            }

            var pages = new PageSet(context, page, browser.MaxPagesPerSession);
            return new BrowserPage(context, egress, guard, pages, urls, allowedHosts, TimeSpan.FromSeconds(browser.ElementTimeoutSeconds), time);
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
        var leaves = false;
        if (action switch { NavigateAction a => a.Url, RunTaskAction a => a.Url, ExtractAction a => a.Url, _ => null } is { Length: > 0 } url)
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
            return result;
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
                $"timeout: {action.Name} did not finish within {deadline.Limit.TotalSeconds:0.#} s ({BrowserEngine.FirstLine(ex.Message)}).{(hung ? " The page stopped answering and was replaced by a blank page." : "")}");
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
            throw new AnchorException(ErrorCodes.Timeout, $"timeout: {action.Name} did not finish within {deadline.Limit.TotalSeconds:0.#} s.");
        }
        finally
        {
            _guard.ActionToken = default;
            // A tab that an element action opened may appear just after it returned; the page's own popups never lead.
            _pages.FollowNewPagesFor(action is ClickAction or PressKeyAction or TypeAction { Submit: true } ? NewPageGrace : TimeSpan.Zero);
        }
    }

    private void ThrowOverrun()
    {
        if (_guard.TakeOverrun() is { } overrun)
        {
            throw new AnchorException(overrun.Code, overrun.Message);
        }
    }

    /// <summary>Runs <paramref name="action"/> on <paramref name="page"/> with the handler its tool family declares.</summary>
    internal async Task<ActionResult> RunOnAsync(IPage page, BrowserAction action, ActionDeadline deadline) => BrowserToolTable.Find(action) is { } handler
        ? await handler.Run(this, page, action, deadline)
        : action switch
    {
        ExtractAction a => await ExtractAsync(page, a, deadline),
        RunTaskAction a => await RunTaskAsync(a, deadline),
        TabsAction a => await TabsAsync(a, deadline),
        HandleDialogAction a => AnswerNextDialog(a),
        ResizeAction a => await ResizeAsync(page, a, deadline),
        ConsoleMessagesAction a => Inspect(PageActivity.IsKnownLevel(a.Level)
            ? PageInspection.Console(_pages.ActivityOf(page).Console(a.Level, a.All), a)
            : throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: level must be error, warning, info or debug (got '{a.Level}').")),
        NetworkRequestsAction a => Inspect(PageInspection.Requests(_pages.ActivityOf(page).Requests(a.Static), a, SearchBudgetOf(deadline))),
        NetworkRequestAction a => Inspect(await RequestDetails.DescribeAsync(
            _pages.ActivityOf(page).Request(a.Number)
                ?? throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: there is no request #{a.Number} since the page loaded; list them with browser_network_requests."),
            a.Part,
            deadline)),
        DropAction a => await DropAsync(page, a, deadline),
        EmulateMediaAction a => await EmulateMediaAsync(page, a, deadline),
        EvaluateAction a => await EvaluateAsync(page, a, deadline),
        FillFormAction a => await FillFormAsync(page, a, deadline),
        FileUploadAction a => await UploadAsync(page, a, deadline),
        MouseAction a => await MouseAsync(page, a, deadline),
        _ => throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: unknown action {action.Name}."),
    };

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

    /// <summary>The session's tabs: the current page, new tabs, notes for the agent, dialogs and file choosers.</summary>
    internal PageSet Pages => _pages;

    internal TimeProvider Time => _time;

    /// <summary>The URL as the session's policy allows it (url_blocked otherwise).</summary>
    internal Task<Uri> CheckUrlAsync(string url, CancellationToken cancellationToken) => _urls.CheckAsync(url, _allowedHosts, cancellationToken);

    /// <summary>The page state after an action: URL, title, notes and the accessibility snapshot, led by <paramref name="result"/>.</summary>
    internal async Task<ActionResult> StateAsync(IPage page, ActionDeadline deadline, string? result) =>
        new(await PageText.PageStateAsync(page, deadline, result, _pages.TakeNotes()));

    private async Task<ActionResult> ExtractAsync(IPage page, ExtractAction a, ActionDeadline deadline)
    {
        if (!string.IsNullOrWhiteSpace(a.Url))
        {
            await Navigation.GoAsync(this, page, a.Url, deadline);
            page = await _pages.CurrentAsync(deadline);
        }

        var result = await PageReads.ExtractAsync(page, a, deadline);
        return new ActionResult(JsonSerializer.Serialize(PageText.ToJson(result)), Extract: result);
    }

    private async Task<ActionResult> RunTaskAsync(RunTaskAction task, ActionDeadline deadline)
    {
        var steps = new List<TaskStepResult>();
        ExtractResult? extract = null;
        foreach (var step in task.Steps.Prepend(new NavigateAction(task.Url)))
        {
            if (step is RunTaskAction)
            {
                throw new AnchorException(ErrorCodes.InvalidArgument, "invalid_argument: a task cannot contain a task.");
            }

            deadline.ThrowIfExpired("run_task");
            var watch = Stopwatch.StartNew();
            try
            {
                var result = await RunOnAsync(await _pages.CurrentAsync(deadline), step, deadline);
                extract = result.Extract ?? extract;
                steps.Add(new TaskStepResult(StepName(step), true, watch.ElapsedMilliseconds, null));
            }
            catch (Exception ex) when (ex is AnchorException or PlaywrightException or TimeoutException && !deadline.Token.IsCancellationRequested)
            {
                var failure = ex switch
                {
                    AnchorException a => a,
                    TimeoutException t => new AnchorException(ErrorCodes.Timeout, $"timeout: {StepName(step)} did not finish in time ({BrowserEngine.FirstLine(t.Message)})."),
                    _ => BrowserErrors.From(StepName(step), ex.Message, _guard.FailureFor(ex.Message)),
                };
                if (failure.Code == ErrorCodes.UrlBlocked && steps.Count == 0)
                {
                    throw failure;
                }

                steps.Add(new TaskStepResult(StepName(step), false, watch.ElapsedMilliseconds, failure.Message));
                break;
            }
        }

        var body = new Dictionary<string, object?> { ["steps"] = steps.Select(s => new { action = s.Action, ok = s.Ok, ms = s.Ms, error = s.Error }) };
        if (extract is not null)
        {
            body["extract"] = PageText.ToJson(extract);
        }

        return new ActionResult(JsonSerializer.Serialize(body), Extract: extract, Steps: steps);
    }

    /// <summary><c>browser_tabs</c>: list, open (optionally navigating), close or select; answers with the tab list.</summary>
    private async Task<ActionResult> TabsAsync(TabsAction a, ActionDeadline deadline)
    {
        string? navigated = null;
        switch (a.Operation)
        {
            case "list":
                break;
            case "new":
                var page = await _pages.NewAsync(deadline);
                if (a.Url is { Length: > 0 } url)
                {
                    navigated = (await Navigation.GoAsync(this, page, url, deadline)).Text;
                }

                break;
            case "close":
                await _pages.CloseAsync(a.Index, deadline);
                break;
            case "select":
                _pages.Select(a.Index ?? throw new AnchorException(ErrorCodes.InvalidArgument, "invalid_argument: index is required to select a tab."));
                break;
            default:
                throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: action must be list, new, close or select (got '{a.Operation}').");
        }

        var lines = new List<string>();
        var tabs = _pages.Tabs();
        for (var i = 0; i < tabs.Count; i++)
        {
            var (tab, current) = tabs[i];
            string title;
            try
            {
                title = await tab.TitleAsync().WaitAsync(HungProbe, _time);
            }
            catch (Exception ex) when (ex is TimeoutException or PlaywrightException)
            {
                title = "(not answering)";
            }

            lines.Add($"- {i}:{(current ? " (current)" : "")} [{title}]({tab.Url})");
        }

        var list = "### Open tabs\n" + (lines.Count == 0 ? "No open tabs. Navigate to a URL to create one." : string.Join('\n', lines));
        return new ActionResult(navigated is null ? PageText.WithNotes(list, _pages.TakeNotes()) : $"{list}\n\n{navigated}");
    }

    private ActionResult AnswerNextDialog(HandleDialogAction a)
    {
        _pages.AnswerNextDialog(a.Accept, a.PromptText);
        var how = a.Accept ? $"accepted{(a.PromptText is { } text ? $" with \"{text}\"" : "")}" : "dismissed";
        return new ActionResult(PageText.WithNotes($"The next JavaScript dialog will be {how}; later ones are dismissed again.", _pages.TakeNotes()));
    }

    private async Task<ActionResult> ResizeAsync(IPage page, ResizeAction a, ActionDeadline deadline)
    {
        if (a.Width is < 100 or > 10_000 || a.Height is < 100 or > 10_000)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: width and height must be between 100 and 10000 pixels (got {a.Width}×{a.Height}).");
        }

        await deadline.Bound(page.SetViewportSizeAsync(a.Width, a.Height));
        return new ActionResult(PageText.WithNotes($"Resized the page to {a.Width}×{a.Height}.", _pages.TakeNotes()));
    }

    internal ActionResult Inspect(string text) => new(PageText.WithNotes(text, _pages.TakeNotes()));

    private async Task<ActionResult> DropAsync(IPage page, DropAction a, ActionDeadline deadline)
    {
        var payload = new DropPayload
        {
            Files = a.Files.Count == 0 ? null : [.. a.Files.Select(f => new FilePayload { Name = f.Name, MimeType = f.MimeType, Buffer = f.Content })],
            Data = a.Data.Count == 0 ? null : a.Data,
        };
        await Resolve(page, a.Element).DropAsync(payload, new LocatorDropOptions { Timeout = ElementTimeout(deadline) });
        var what = string.Join(", ", [.. a.Files.Select(f => $"{f.Name} ({f.Content.Length} bytes)"), .. a.Data.Keys]);
        return await StateAsync(page, deadline, $"Dropped {what} onto {PageText.Describe(a.Element)}");
    }

    private async Task<ActionResult> EmulateMediaAsync(IPage page, EmulateMediaAction a, ActionDeadline deadline)
    {
        if (a.ForcedColors is not null || a.Contrast is not null)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "invalid_argument: forcedColors and contrast cannot be emulated here; colorScheme, reducedMotion and media can.");
        }

        var options = new PageEmulateMediaOptions
        {
            ColorScheme = a.ColorScheme switch
            {
                null => null,
                "light" => ColorScheme.Light,
                "dark" => ColorScheme.Dark,
                _ => throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: colorScheme must be light or dark (got '{a.ColorScheme}')."),
            },
            ReducedMotion = a.ReducedMotion switch
            {
                null => null,
                "reduce" => ReducedMotion.Reduce,
                "no-preference" => ReducedMotion.NoPreference,
                _ => throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: reducedMotion must be reduce or no-preference (got '{a.ReducedMotion}')."),
            },
            Media = a.Media switch
            {
                null => null,
                "screen" => Media.Screen,
                "print" => Media.Print,
                _ => throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: media must be screen or print (got '{a.Media}')."),
            },
        };
        await deadline.Bound(page.EmulateMediaAsync(options));
        var set = new[] { ("colorScheme", a.ColorScheme), ("reducedMotion", a.ReducedMotion), ("media", a.Media) }.Where(f => f.Item2 is not null).Select(f => $"{f.Item1} {f.Item2}");
        var joined = string.Join(", ", set);
        return Inspect($"Emulating {(joined.Length == 0 ? "nothing new" : joined)}.");
    }

    private async Task<ActionResult> EvaluateAsync(IPage page, EvaluateAction a, ActionDeadline deadline) => Inspect("### Result\n" + await PageReads.EvaluateAsync(
        page, a.Element is { } element ? Resolve(page, element) : null, a.Function, ElementTimeout(deadline), deadline));

    private async Task<ActionResult> FillFormAsync(IPage page, FillFormAction a, ActionDeadline deadline)
    {
        foreach (var field in a.Fields)
        {
            var locator = Resolve(page, field.Element);
            var timeout = ElementTimeout(deadline);
            switch (field.Type)
            {
                case "textbox" or "slider":
                    await locator.FillAsync(field.Value, new LocatorFillOptions { Timeout = timeout });
                    break;
                case "checkbox" or "radio":
                    await locator.SetCheckedAsync(field.Value is "true" or "checked" or "on", new LocatorSetCheckedOptions { Timeout = timeout });
                    break;
                case "combobox":
                    await locator.SelectOptionAsync(new SelectOptionValue { Label = field.Value }, new LocatorSelectOptionOptions { Timeout = timeout });
                    break;
                default:
                    throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: field type must be textbox, checkbox, radio, combobox or slider (got '{field.Type}').");
            }
        }

        return await StateAsync(page, deadline, $"Filled {a.Fields.Count} field{(a.Fields.Count == 1 ? "" : "s")}: {string.Join(", ", a.Fields.Select(f => PageText.Describe(f.Element)))}");
    }

    private async Task<ActionResult> UploadAsync(IPage page, FileUploadAction a, ActionDeadline deadline)
    {
        var files = a.Files.Select(f => new FilePayload { Name = f.Name, MimeType = f.MimeType, Buffer = f.Content }).ToArray();
        if (a.Element is { } element)
        {
            await Resolve(page, element).SetInputFilesAsync(files, new LocatorSetInputFilesOptions { Timeout = ElementTimeout(deadline) });
        }
        else if (_pages.TakeFileChooser() is { } chooser)
        {
            await chooser.SetFilesAsync(files, new FileChooserSetFilesOptions { Timeout = deadline.TimeoutMs });
        }
        else
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "invalid_argument: no file chooser is open; pass target (the file input) or click the upload button first.");
        }

        return await StateAsync(page, deadline, $"Uploaded {string.Join(", ", a.Files.Select(f => $"{f.Name} ({f.Content.Length} bytes)"))}");
    }

    /// <summary>The coordinate tools: the mouse at viewport coordinates, for pages whose elements a snapshot cannot name.</summary>
    private async Task<ActionResult> MouseAsync(IPage page, MouseAction a, ActionDeadline deadline)
    {
        var mouse = page.Mouse;
        var button = Elements.ButtonOf(a.Button);
        _pages.FollowNewPagesFor(deadline.Remaining);
        var done = a.Kind switch
        {
            "click" => await Run(mouse.ClickAsync((float)a.X, (float)a.Y, new MouseClickOptions { Button = button, ClickCount = Math.Clamp(a.ClickCount, 1, 3), Delay = (float)Math.Clamp(a.DelayMs, 0, 5_000) }), $"Clicked at ({a.X}, {a.Y})"),
            "move" => await Run(mouse.MoveAsync((float)a.X, (float)a.Y), $"Moved the mouse to ({a.X}, {a.Y})"),
            "down" => await Run(mouse.DownAsync(new MouseDownOptions { Button = button }), $"Pressed the {a.Button ?? "left"} button"),
            "up" => await Run(mouse.UpAsync(new MouseUpOptions { Button = button }), $"Released the {a.Button ?? "left"} button"),
            "wheel" => await Run(mouse.WheelAsync((float)a.X, (float)a.Y), $"Scrolled by ({a.X}, {a.Y})"),
            "drag" => await DragXyAsync(mouse, a, deadline),
            _ => throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: unknown mouse action '{a.Kind}'."),
        };
        return await StateAsync(await _pages.CurrentAsync(deadline), deadline, done);

        async Task<string> Run(Task task, string what)
        {
            await deadline.Bound(task);
            return what;
        }
    }

    private static async Task<string> DragXyAsync(IMouse mouse, MouseAction a, ActionDeadline deadline)
    {
        await deadline.Bound(mouse.MoveAsync((float)a.X, (float)a.Y));
        await deadline.Bound(mouse.DownAsync());
        await deadline.Bound(mouse.MoveAsync((float)a.X2, (float)a.Y2, new MouseMoveOptions { Steps = 10 }));
        await deadline.Bound(mouse.UpAsync());
        return $"Dragged from ({a.X}, {a.Y}) to ({a.X2}, {a.Y2})";
    }

    private static string StepName(BrowserAction step) => step switch
    {
        NavigateAction => "navigate",
        ClickAction => "click",
        TypeAction => "type",
        SelectOptionAction => "select",
        WaitForAction => "wait",
        ExtractAction => "extract",
        _ => step.Name,
    };

    internal SearchBudget SearchBudgetOf(ActionDeadline deadline) => new(_time, deadline.Token, SearchBudget.DefaultTotal);

    internal float ElementTimeout(ActionDeadline deadline) => Math.Min(deadline.TimeoutMs, (float)_elementTimeout.TotalMilliseconds);

    internal static ILocator Resolve(IPage page, ElementTarget element)
    {
        var target = element.Target.Trim();
        if (target.Length == 0)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "invalid_argument: target is empty; pass a ref from browser_snapshot or a selector.");
        }

        return RefPattern().IsMatch(target) ? page.GetByRef(target) : page.Locator(target);
    }

    /// <summary>Closes the context, which ends every Playwright call still running on it; bounded, never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        _guard.Close();
        await CloseQuietlyAsync(_context);
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
