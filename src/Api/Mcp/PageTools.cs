using System.ComponentModel;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// The session's pages as <c>@playwright/mcp</c> shapes them: tabs, the answer to the next dialog, the viewport size.
/// A session holds at most <c>Browser:MaxPagesPerSession</c> tabs and always has one current tab.
/// </summary>
[McpServerToolType]
public sealed class PageTools(BrowserTools browser)
{
    private const string SessionIdHelp = "Browser session to use, from browser_session_create. Omit to use your default session (opened on first use).";

    [McpServerTool(Name = "browser_tabs", Title = "Manage tabs", OpenWorld = true)]
    [Description("List, create, close, or select a browser tab. Answers with the open tabs, numbered from 0, the current one marked.")]
    public async Task<CallToolResult> TabsAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Operation to perform: list, new, close or select.")] string action,
        [Description("Tab index, used for close/select. If omitted for close, the current tab is closed.")] int? index = null,
        [Description("URL to navigate to in the new tab, used for new.")] string? url = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        ToolResults.Text((await browser.ExecuteAsync(context, session_id, new TabsAction(action, index, url), cancellationToken)).Text);

    [McpServerTool(Name = "browser_handle_dialog", Title = "Handle a dialog", OpenWorld = true)]
    [Description("Says how to answer the next JavaScript dialog (alert, confirm, prompt) the page shows: accept it (with text for a prompt) or dismiss it. Dialogs never block a session: without this they are dismissed (beforeunload accepted) and reported in the next result.")]
    public async Task<CallToolResult> HandleDialogAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Whether to accept the dialog.")] bool accept,
        [Description("The text of the prompt in case of a prompt dialog.")] string? promptText = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        ToolResults.Text((await browser.ExecuteAsync(context, session_id, new HandleDialogAction(accept, promptText), cancellationToken)).Text);

    [McpServerTool(Name = "browser_resize", Title = "Resize browser window", OpenWorld = true)]
    [Description("Resizes the page's viewport (100 to 10000 pixels each way).")]
    public async Task<CallToolResult> ResizeAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Width of the browser window.")] int width,
        [Description("Height of the browser window.")] int height,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        ToolResults.Text((await browser.ExecuteAsync(context, session_id, new ResizeAction(width, height), cancellationToken)).Text);
}
