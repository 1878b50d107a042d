using System.ComponentModel;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Tools;

/// <summary>
/// <c>browser_tabs</c> and <c>browser_handle_dialog</c>: the session's tabs (at most <c>Browser:MaxPagesPerSession</c>,
/// always one current) and the answer to the next JavaScript dialog.
/// </summary>
public sealed class Tabs(ToolCall call) : IBrowserToolFamily
{
    public static IEnumerable<ActionHandler> Handlers =>
    [
        ActionHandler.For<TabsAction>(changesPage: true, TabsAsync),
        ActionHandler.For<HandleDialogAction>(changesPage: true, static (browser, _, a, _) => Task.FromResult(AnswerNextDialog(browser, a))),
    ];

    [BrowserTool("browser_tabs", "Manage tabs", typeof(TabsAction))]
    [Description("List, create, close, or select a browser tab. Answers with the open tabs, numbered from 0, the current one marked.")]
    public Task<object> TabsAsync(
        [Description("Operation to perform: list, new, close or select.")] string action,
        [Description("Tab index, used for close/select. If omitted for close, the current tab is closed.")] int? index = null,
        [Description("URL to navigate to in the new tab, used for new.")] string? url = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new TabsAction(action, index, url), cancellationToken);

    [BrowserTool("browser_handle_dialog", "Handle a dialog", typeof(HandleDialogAction))]
    [Description("Says how to answer the next JavaScript dialog (alert, confirm, prompt) the page shows: accept it (with text for a prompt) or dismiss it. Dialogs never block a session: without this they are dismissed (beforeunload accepted) and reported in the next result.")]
    public Task<object> HandleDialogAsync(
        [Description("Whether to accept the dialog.")] bool accept,
        [Description("The text of the prompt in case of a prompt dialog.")] string? promptText = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new HandleDialogAction(accept, promptText), cancellationToken);

    /// <summary><c>browser_tabs</c>: list, open (optionally navigating), close or select; answers with the tab list.</summary>
    private static async Task<ActionResult> TabsAsync(BrowserPage browser, IPage current, TabsAction a, ActionDeadline deadline)
    {
        var pages = browser.Pages;
        string? navigated = null;
        switch (a.Operation)
        {
            case "list":
                break;
            case "new":
                var page = await pages.NewAsync(deadline);
                if (a.Url is { Length: > 0 } url)
                {
                    navigated = (await Navigation.GoAsync(browser, page, url, deadline)).Text;
                }

                break;
            case "close":
                await pages.CloseAsync(a.Index, deadline);
                break;
            case "select":
                pages.Select(a.Index ?? throw new AnchorException(ErrorCodes.InvalidArgument, "index is required to select a tab."));
                break;
            default:
                throw new AnchorException(ErrorCodes.InvalidArgument, $"action must be list, new, close or select (got '{a.Operation}').");
        }

        var lines = new List<string>();
        var tabs = pages.Tabs();
        for (var i = 0; i < tabs.Count; i++)
        {
            var (tab, isCurrent) = tabs[i];
            string title;
            try
            {
                title = await tab.TitleAsync().WaitAsync(BrowserPage.HungProbe, browser.Time);
            }
            catch (Exception ex) when (ex is TimeoutException or PlaywrightException)
            {
                title = "(not answering)";
            }

            lines.Add($"- {i}:{(isCurrent ? " (current)" : "")} [{title}]({tab.Url})");
        }

        var list = "### Open tabs\n" + (lines.Count == 0 ? "No open tabs. Navigate to a URL to create one." : string.Join('\n', lines));
        return new ActionResult(navigated is null ? PageText.WithNotes(list, pages.TakeNotes()) : $"{list}\n\n{navigated}");
    }

    private static ActionResult AnswerNextDialog(BrowserPage browser, HandleDialogAction a)
    {
        browser.Pages.AnswerNextDialog(a.Accept, a.PromptText);
        var how = a.Accept ? $"accepted{(a.PromptText is { } text ? $" with \"{text}\"" : "")}" : "dismissed";
        return browser.Inspect($"The next JavaScript dialog will be {how}; later ones are dismissed again.");
    }
}
