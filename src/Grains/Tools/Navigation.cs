using System.ComponentModel;
using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Tools;

/// <summary><c>browser_navigate</c> and <c>browser_navigate_back</c>: the page goes somewhere else.</summary>
public sealed partial class Navigation(ToolCall call) : IBrowserToolFamily
{
    public static IEnumerable<ActionHandler> Handlers =>
    [
        ActionHandler.For<NavigateAction>(changesPage: true, static (browser, page, a, deadline) => GoAsync(browser, page, a.Url, deadline), destination: static a => a.Url),
        ActionHandler.For<NavigateBackAction>(changesPage: true, BackAsync),
    ];

    [BrowserTool("browser_navigate", "Navigate to a URL", typeof(NavigateAction), Search = true)]
    [Description("Navigates the page to a URL and returns the page state with an accessibility snapshot. Only http and https URLs on public hosts are allowed (url_blocked otherwise).")]
    public Task<object> NavigateAsync(
        [Description("The URL to open, e.g. https://example.com/search?q=shoes.")] string url,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new NavigateAction(url), cancellationToken);

    [BrowserTool("browser_navigate_back", "Go back", typeof(NavigateBackAction))]
    [Description("Goes back to the previous page in the session's history and returns the page state.")]
    public Task<object> NavigateBackAsync(
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new NavigateBackAction(), cancellationToken);

    /// <summary>Opens <paramref name="url"/> (checked against the URL policy) in <paramref name="page"/> and answers with the page state.</summary>
    internal static async Task<ActionResult> GoAsync(BrowserPage browser, IPage page, string url, ActionDeadline deadline)
    {
        var uri = await browser.CheckUrlAsync(url, deadline.Token);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await page.GotoAsync(uri.AbsoluteUri, new PageGotoOptions { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = deadline.TimeoutMs });
                break;
            }
            catch (PlaywrightException ex) when (attempt < 3 && InterruptedBy().Match(ex.Message) is { Success: true } other && browser.Guard.LastFailure is null)
            {
                // Another navigation committed first: the error page of an earlier failed navigation, or an earlier
                // attempt of this one. Let it settle; go again unless it was ours.
                await page.WaitForLoadStateAsync(LoadState.DOMContentLoaded, new PageWaitForLoadStateOptions { Timeout = deadline.TimeoutMs });
                if (other.Groups["url"].Value == uri.AbsoluteUri)
                {
                    break;
                }
            }
        }

        return await browser.StateAsync(page, deadline, $"Navigated to {page.Url}");
    }

    private static async Task<ActionResult> BackAsync(BrowserPage browser, IPage page, NavigateBackAction a, ActionDeadline deadline)
    {
        var response = await page.GoBackAsync(new PageGoBackOptions { Timeout = deadline.TimeoutMs });
        return await browser.StateAsync(page, deadline, response is null ? "There is no previous page." : $"Navigated back to {page.Url}");
    }

    [GeneratedRegex("is interrupted by another navigation to \"(?<url>[^\"]*)\"")]
    private static partial Regex InterruptedBy();
}
