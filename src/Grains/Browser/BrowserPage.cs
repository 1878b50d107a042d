using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// One session's browser context and its current page, and how each <see cref="BrowserAction"/> is carried out
/// on it. Answers read like <c>@playwright/mcp</c>'s (result, then page state with an accessibility snapshot whose
/// <c>[ref=eN]</c> handles address elements in the next call). Not thread-safe: its grain calls it one at a time.
/// </summary>
public sealed partial class BrowserPage : IAsyncDisposable
{
    private const string ExtractScript = """
        (items, fields) => items.map(item => {
          const record = {};
          for (const [name, spec] of Object.entries(fields)) {
            const at = spec.lastIndexOf('@');
            const attribute = at >= 0 && /^[\w:.-]+$/.test(spec.slice(at + 1).trim()) ? spec.slice(at + 1).trim() : null;
            const css = attribute ? spec.slice(0, at).trim() : spec.trim();
            const node = css ? item.querySelector(css) : item;
            let value = node ? (attribute ? node.getAttribute(attribute) : (node.innerText ?? node.textContent)) : null;
            if (value !== null && value !== undefined) { value = String(value).replace(/\s+/g, ' ').trim(); }
            record[name] = value ? value : null;
          }
          return record;
        })
        """;

    private readonly IBrowserContext _context;
    private readonly UrlPolicy _urls;
    private readonly IReadOnlyList<string> _allowedHosts;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> _hostVerdicts = new(StringComparer.OrdinalIgnoreCase);
    private IPage _page;
    private string? _lastBlocked;

    private BrowserPage(IBrowserContext context, IPage page, UrlPolicy urls, IReadOnlyList<string> allowedHosts)
    {
        _context = context;
        _page = page;
        _urls = urls;
        _allowedHosts = allowedHosts;
        // A link that opens a new tab becomes the page the agent works on, as it would for a person.
        _context.Page += (_, popup) => _page = popup;
    }

    /// <summary>
    /// Every request the page makes passes the URL policy, not only the URLs agents name: a redirect, a link or an
    /// embedded resource pointing at a private or metadata address is aborted like a direct navigation would be.
    /// Verdicts are cached per origin for the session, so DNS is asked once per host.
    /// </summary>
    private async Task GuardAsync(IRoute route)
    {
        var url = route.Request.Url;
        if (!IsHttp(url))
        {
            await route.ContinueAsync();
            return;
        }

        if (await RefusalAsync(url) is { } refusal)
        {
            await BlockAsync(route, refusal);
            return;
        }

        if (!route.Request.IsNavigationRequest)
        {
            await route.ContinueAsync();
            return;
        }

        // Redirects are followed inside the browser's network stack, out of the route's sight: fetch navigations
        // here without following, check where a redirect points before the browser may go there, then hand the
        // response over. The followed request comes through this guard again.
        var response = await route.FetchAsync(new RouteFetchOptions { MaxRedirects = 0 });
        if (response.Status is >= 300 and < 400
            && response.Headers.TryGetValue("location", out var location)
            && Uri.TryCreate(new Uri(url), location, out var target)
            && IsHttp(target.AbsoluteUri)
            && await RefusalAsync(target.AbsoluteUri) is { } redirectRefusal)
        {
            await BlockAsync(route, redirectRefusal);
            return;
        }

        await route.FulfillAsync(new RouteFulfillOptions { Response = response });
    }

    private static bool IsHttp(string url) =>
        url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why the policy refuses <paramref name="url"/>'s origin, or null; cached per origin for the session.</summary>
    private async Task<string?> RefusalAsync(string url)
    {
        var origin = new Uri(url).GetLeftPart(UriPartial.Authority);
        if (!_hostVerdicts.TryGetValue(origin, out var refusal))
        {
            try
            {
                await _urls.CheckAsync(origin, _allowedHosts);
                refusal = null;
            }
            catch (AnchorException ex) when (ex.Code == ErrorCodes.UrlBlocked)
            {
                refusal = ex.Message;
            }

            _hostVerdicts[origin] = refusal;
        }

        return refusal?.Replace(origin, AnchorTracing.SafeUrl(url), StringComparison.Ordinal);
    }

    private async Task BlockAsync(IRoute route, string refusal)
    {
        _lastBlocked = refusal;
        await route.AbortAsync("blockedbyclient");
    }

    public string Url => _page.Url;

    /// <summary>True once the browser behind this session is gone (crashed, killed, disconnected).</summary>
    public bool IsGone => _context.Browser is { IsConnected: false } || _page.IsClosed;

    public static async Task<BrowserPage> OpenAsync(
        BrowserEngine engine, UrlPolicy urls, IReadOnlyList<string> allowedHosts, TimeSpan navigationTimeout, TimeSpan elementTimeout, CancellationToken cancellationToken)
    {
        var context = await engine.NewContextAsync(cancellationToken);
        try
        {
            context.SetDefaultNavigationTimeout((float)navigationTimeout.TotalMilliseconds);
            context.SetDefaultTimeout((float)elementTimeout.TotalMilliseconds);
            var page = await context.NewPageAsync();
            var browserPage = new BrowserPage(context, page, urls, allowedHosts);
            await context.RouteAsync("**/*", browserPage.GuardAsync);
            return browserPage;
        }
        catch
        {
            await context.CloseAsync();
            throw;
        }
    }

    /// <summary>Runs one action; Playwright failures become <see cref="AnchorException"/>s with stable codes.</summary>
    public async Task<ActionResult> RunAsync(BrowserAction action, CancellationToken cancellationToken)
    {
        using var activity = AnchorTracing.Source.StartActivity($"browser {action.Name}");
        activity?.SetTag("anchor.browser.action", action.Name);
        var url = action switch
        {
            NavigateAction a => a.Url,
            RunTaskAction a => a.Url,
            ExtractAction a => a.Url,
            _ => null,
        };
        if (url is { Length: > 0 })
        {
            activity?.SetTag("url.full", AnchorTracing.SafeUrl(url));
        }

        try
        {
            return action switch
            {
                NavigateAction a => await NavigateAsync(a.Url, cancellationToken),
                NavigateBackAction => await BackAsync(),
                SnapshotAction a => await SnapshotAsync(a),
                ClickAction a => await ClickAsync(a),
                TypeAction a => await TypeAsync(a),
                PressKeyAction a => await PressKeyAsync(a),
                SelectOptionAction a => await SelectAsync(a),
                HoverAction a => await HoverAsync(a),
                WaitForAction a => await WaitForAsync(a, cancellationToken),
                ScreenshotAction a => await ScreenshotAsync(a),
                ExtractAction a => await ExtractAsync(a, cancellationToken),
                RunTaskAction a => await RunTaskAsync(a, cancellationToken),
                _ => throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: unknown action {action.Name}."),
            };
        }
        catch (TimeoutException ex)
        {
            throw new AnchorException(ErrorCodes.Timeout, $"timeout: {action.Name} did not finish in time ({BrowserEngine.FirstLine(ex.Message)}).");
        }
        catch (PlaywrightException ex) when (ex.Message.Contains("ERR_BLOCKED_BY_CLIENT", StringComparison.Ordinal) && _lastBlocked is { } blocked)
        {
            throw new AnchorException(ErrorCodes.UrlBlocked, blocked);
        }
        catch (PlaywrightException ex) when (ex.Message.Contains("strict mode violation", StringComparison.Ordinal))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: the target matches more than one element; take a new browser_snapshot and use a ref ({BrowserEngine.FirstLine(ex.Message)}).");
        }
        catch (PlaywrightException ex)
        {
            throw new AnchorException(ErrorCodes.BrowserError, $"browser_error: {action.Name} failed: {BrowserEngine.FirstLine(ex.Message)}.");
        }
    }

    private async Task<ActionResult> NavigateAsync(string url, CancellationToken cancellationToken)
    {
        var uri = await _urls.CheckAsync(url, _allowedHosts, cancellationToken);
        await _page.GotoAsync(uri.AbsoluteUri, new PageGotoOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
        return new ActionResult(await PageStateAsync($"Navigated to {_page.Url}"));
    }

    private async Task<ActionResult> BackAsync()
    {
        var response = await _page.GoBackAsync();
        return new ActionResult(await PageStateAsync(response is null ? "There is no previous page." : $"Navigated back to {_page.Url}"));
    }

    private async Task<ActionResult> ClickAsync(ClickAction a)
    {
        var locator = Resolve(a.Element);
        var button = a.Button?.ToLowerInvariant() switch
        {
            null or "" or "left" => MouseButton.Left,
            "right" => MouseButton.Right,
            "middle" => MouseButton.Middle,
            _ => throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: button must be left, right or middle (got '{a.Button}')."),
        };
        var modifiers = (a.Modifiers ?? []).Select(ModifierOf).ToArray();
        if (a.DoubleClick)
        {
            await locator.DblClickAsync(new LocatorDblClickOptions { Button = button, Modifiers = modifiers });
        }
        else
        {
            await locator.ClickAsync(new LocatorClickOptions { Button = button, Modifiers = modifiers });
        }

        return new ActionResult(await PageStateAsync($"{(a.DoubleClick ? "Double-clicked" : "Clicked")} {Describe(a.Element)}"));
    }

    private static KeyboardModifier ModifierOf(string name) => name switch
    {
        "Alt" => KeyboardModifier.Alt,
        "Control" => KeyboardModifier.Control,
        "ControlOrMeta" => KeyboardModifier.ControlOrMeta,
        "Meta" => KeyboardModifier.Meta,
        "Shift" => KeyboardModifier.Shift,
        _ => throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: modifier '{name}' is not one of Alt, Control, ControlOrMeta, Meta, Shift."),
    };

    private async Task<ActionResult> SnapshotAsync(SnapshotAction a)
    {
        if (a.Element is null && a.Depth is null && !a.Boxes)
        {
            return new ActionResult(await PageStateAsync());
        }

        var snapshot = a.Element is { } element
            ? await Resolve(element).AriaSnapshotAsync(new LocatorAriaSnapshotOptions { Mode = AriaSnapshotMode.Ai, Depth = a.Depth, Boxes = a.Boxes })
            : await _page.AriaSnapshotAsync(new PageAriaSnapshotOptions { Mode = AriaSnapshotMode.Ai, Depth = a.Depth, Boxes = a.Boxes });
        return new ActionResult($"### Page state\n- Page URL: {_page.Url}\n- Page Title: {await _page.TitleAsync()}\n- Page Snapshot:\n```yaml\n{snapshot}\n```\n");
    }

    private async Task<ActionResult> TypeAsync(TypeAction a)
    {
        var locator = Resolve(a.Element);
        if (a.Slowly)
        {
            await locator.PressSequentiallyAsync(a.Text);
        }
        else
        {
            await locator.FillAsync(a.Text);
        }

        if (a.Submit)
        {
            await locator.PressAsync("Enter");
        }

        return new ActionResult(await PageStateAsync($"Typed into {Describe(a.Element)}{(a.Submit ? " and submitted" : "")}"));
    }

    private async Task<ActionResult> PressKeyAsync(PressKeyAction a)
    {
        await _page.Keyboard.PressAsync(a.Key);
        return new ActionResult(await PageStateAsync($"Pressed {a.Key}"));
    }

    private async Task<ActionResult> SelectAsync(SelectOptionAction a)
    {
        var selected = await Resolve(a.Element).SelectOptionAsync(a.Values);
        return new ActionResult(await PageStateAsync($"Selected {string.Join(", ", selected)} in {Describe(a.Element)}"));
    }

    private async Task<ActionResult> HoverAsync(HoverAction a)
    {
        await Resolve(a.Element).HoverAsync();
        return new ActionResult(await PageStateAsync($"Hovered over {Describe(a.Element)}"));
    }

    private async Task<ActionResult> WaitForAsync(WaitForAction a, CancellationToken cancellationToken)
    {
        if (a.TimeSeconds is { } seconds)
        {
            await Task.Delay(TimeSpan.FromSeconds(Math.Clamp(seconds, 0, 600)), cancellationToken);
        }

        if (!string.IsNullOrEmpty(a.Text))
        {
            await _page.GetByText(a.Text).First.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible, Timeout = 0 });
        }

        if (!string.IsNullOrEmpty(a.TextGone))
        {
            await _page.GetByText(a.TextGone).First.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Hidden, Timeout = 0 });
        }

        var what = a.Text is { Length: > 0 } ? $"text \"{a.Text}\" appeared" : a.TextGone is { Length: > 0 } ? $"text \"{a.TextGone}\" disappeared" : $"waited {a.TimeSeconds:0.###} s";
        return new ActionResult(await PageStateAsync($"Waited until {what}"));
    }

    private async Task<ActionResult> ScreenshotAsync(ScreenshotAction a)
    {
        var scale = a.DeviceScale ? ScreenshotScale.Device : ScreenshotScale.Css;
        var png = a.Element is { } element
            ? await Resolve(element).ScreenshotAsync(new LocatorScreenshotOptions { Type = ScreenshotType.Png, Scale = scale })
            : await _page.ScreenshotAsync(new PageScreenshotOptions { Type = ScreenshotType.Png, FullPage = a.FullPage, Scale = scale });
        return new ActionResult($"Screenshot of {(a.Element is { } e ? Describe(e) : a.FullPage ? "the full page" : "the viewport")} at {_page.Url}", png);
    }

    private async Task<ActionResult> ExtractAsync(ExtractAction a, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(a.Url))
        {
            await NavigateAsync(a.Url, cancellationToken);
        }

        var rows = await _page.EvalOnSelectorAllAsync<Dictionary<string, string?>[]>(a.ItemSelector, ExtractScript, a.Fields);
        var records = rows.Select(r => (IReadOnlyDictionary<string, string?>)a.Fields.Keys.ToDictionary(k => k, k => r.GetValueOrDefault(k))).ToList();
        var result = new ExtractResult(records, Completeness(records, a.Fields.Count), Cached: false);
        return new ActionResult(JsonSerializer.Serialize(ToJson(result)), Extract: result);
    }

    private async Task<ActionResult> RunTaskAsync(RunTaskAction task, CancellationToken cancellationToken)
    {
        var steps = new List<TaskStepResult>();
        ExtractResult? extract = null;
        foreach (var step in task.Steps.Prepend(new NavigateAction(task.Url)))
        {
            if (step is RunTaskAction)
            {
                throw new AnchorException(ErrorCodes.InvalidArgument, "invalid_argument: a task cannot contain a task.");
            }

            var watch = Stopwatch.StartNew();
            try
            {
                var result = await RunAsync(step, cancellationToken);
                extract = result.Extract ?? extract;
                steps.Add(new TaskStepResult(StepName(step), true, watch.ElapsedMilliseconds, null));
            }
            catch (AnchorException ex) when (ex.Code != ErrorCodes.UrlBlocked || steps.Count > 0)
            {
                steps.Add(new TaskStepResult(StepName(step), false, watch.ElapsedMilliseconds, ex.Message));
                break;
            }
        }

        var body = new Dictionary<string, object?> { ["steps"] = steps.Select(s => new { action = s.Action, ok = s.Ok, ms = s.Ms, error = s.Error }) };
        if (extract is not null)
        {
            body["extract"] = ToJson(extract);
        }

        return new ActionResult(JsonSerializer.Serialize(body), Extract: extract, Steps: steps);
    }

    /// <summary>Fields found ÷ fields asked, over all records; 0 when nothing matched.</summary>
    public static double Completeness(IReadOnlyList<IReadOnlyDictionary<string, string?>> records, int fieldCount) =>
        records.Count == 0 || fieldCount == 0 ? 0 : Math.Round((double)records.Sum(r => r.Values.Count(v => v is not null)) / (records.Count * fieldCount), 4);

    public static object ToJson(ExtractResult result) => new { records = result.Records, completeness = result.Completeness, cached = result.Cached };

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

    private ILocator Resolve(ElementTarget element)
    {
        var target = element.Target.Trim();
        if (target.Length == 0)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "invalid_argument: target is empty; pass a ref from browser_snapshot or a selector.");
        }

        return RefPattern().IsMatch(target) ? _page.GetByRef(target) : _page.Locator(target);
    }

    private static string Describe(ElementTarget element) =>
        element.Description is { Length: > 0 } d ? $"\"{d}\" ({element.Target})" : element.Target;

    private async Task<string> PageStateAsync(string? result = null)
    {
        var snapshot = await _page.AriaSnapshotAsync(new PageAriaSnapshotOptions { Mode = AriaSnapshotMode.Ai });
        var text = new StringBuilder();
        if (result is not null)
        {
            text.Append("### Result\n").Append(result).Append("\n\n");
        }

        text.Append("### Page state\n")
            .Append("- Page URL: ").Append(_page.Url).Append('\n')
            .Append("- Page Title: ").Append(await _page.TitleAsync()).Append('\n')
            .Append("- Page Snapshot:\n```yaml\n").Append(snapshot).Append("\n```\n");
        return text.ToString();
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();

    [GeneratedRegex("^(f[0-9]+)?e[0-9]+$")]
    private static partial Regex RefPattern();
}
