using System.ComponentModel;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// The session's pages as <c>@playwright/mcp</c> shapes them: tabs, the answer to the next dialog, the viewport size,
/// console messages, network requests, search in the snapshot, drag and drop, media emulation.
/// A session holds at most <c>Browser:MaxPagesPerSession</c> tabs and always has one current tab.
/// </summary>
[McpServerToolType]
public sealed class PageTools(BrowserTools browser)
{
    private const string SessionIdHelp = "Browser session to use, from browser_session_create. Omit to use your default session (opened on first use).";

    [McpServerTool(Name = "browser_tabs", Title = "Manage tabs", OpenWorld = true)]
    [Description("List, create, close, or select a browser tab. Answers with the open tabs, numbered from 0, the current one marked.")]
    public Task<CallToolResult> TabsAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Operation to perform: list, new, close or select.")] string action,
        [Description("Tab index, used for close/select. If omitted for close, the current tab is closed.")] int? index = null,
        [Description("URL to navigate to in the new tab, used for new.")] string? url = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new TabsAction(action, index, url), cancellationToken);

    [McpServerTool(Name = "browser_handle_dialog", Title = "Handle a dialog", OpenWorld = true)]
    [Description("Says how to answer the next JavaScript dialog (alert, confirm, prompt) the page shows: accept it (with text for a prompt) or dismiss it. Dialogs never block a session: without this they are dismissed (beforeunload accepted) and reported in the next result.")]
    public Task<CallToolResult> HandleDialogAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Whether to accept the dialog.")] bool accept,
        [Description("The text of the prompt in case of a prompt dialog.")] string? promptText = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new HandleDialogAction(accept, promptText), cancellationToken);

    [McpServerTool(Name = "browser_resize", Title = "Resize browser window", OpenWorld = true)]
    [Description("Resizes the page's viewport (100 to 10000 pixels each way).")]
    public Task<CallToolResult> ResizeAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Width of the browser window.")] int width,
        [Description("Height of the browser window.")] int height,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new ResizeAction(width, height), cancellationToken);

    private const string FileNameHelp = "Ignored: the result is returned in the answer, never written to the server's disk.";

    [McpServerTool(Name = "browser_console_messages", Title = "Get console messages", ReadOnly = true, OpenWorld = true)]
    [Description("Returns the current tab's console messages (uncaught errors included), each level including the more severe ones.")]
    public Task<CallToolResult> ConsoleMessagesAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Level of the console messages to return: error, warning, info (default) or debug. Each level includes the messages of more severe levels.")] string level = "info",
        [Description("Return all console messages since the tab opened, not just since the last navigation.")] bool all = false,
        [Description(FileNameHelp)] string? filename = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new ConsoleMessagesAction(level, all), cancellationToken);

    [McpServerTool(Name = "browser_network_requests", Title = "List network requests", ReadOnly = true, OpenWorld = true)]
    [Description("Returns a numbered list of the current tab's network requests since the page loaded: method, URL (without query string), resource type and status or failure.")]
    public Task<CallToolResult> NetworkRequestsAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Whether to include successful static resources like images, fonts, scripts, etc. Defaults to false.")] bool @static = false,
        [Description("Only return requests whose URL matches this regular expression (e.g. \"/api/.*user\").")] string? filter = null,
        [Description(FileNameHelp)] string? filename = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new NetworkRequestsAction(@static, filter), cancellationToken);

    [McpServerTool(Name = "browser_drag", Title = "Drag mouse", OpenWorld = true)]
    [Description("Performs drag and drop between two elements and returns the page state.")]
    public Task<CallToolResult> DragAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The element to drag: a ref from browser_snapshot or a selector.")] string startTarget,
        [Description("The element to drop it on: a ref from browser_snapshot or a selector.")] string endTarget,
        [Description("Human-readable description of the dragged element.")] string? startElement = null,
        [Description("Human-readable description of the drop target.")] string? endElement = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new DragAction(new ElementTarget(startTarget, startElement), new ElementTarget(endTarget, endElement)), cancellationToken);

    [McpServerTool(Name = "browser_emulate_media", Title = "Emulate media", OpenWorld = true)]
    [Description("Emulates CSS media features for the page, e.g. the dark color scheme or print media. Omitted features are left unchanged. forcedColors and contrast are not supported here.")]
    public Task<CallToolResult> EmulateMediaAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Emulates the prefers-color-scheme media feature: light or dark.")] string? colorScheme = null,
        [Description("Emulates the prefers-reduced-motion media feature: reduce or no-preference.")] string? reducedMotion = null,
        [Description("Emulates the forced-colors media feature (not supported here).")] string? forcedColors = null,
        [Description("Emulates the prefers-contrast media feature (not supported here).")] string? contrast = null,
        [Description("Changes the CSS media type of the page: screen or print.")] string? media = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new EmulateMediaAction(colorScheme, reducedMotion, media, forcedColors, contrast), cancellationToken);

    [McpServerTool(Name = "browser_find", Title = "Find in page", ReadOnly = true, OpenWorld = true)]
    [Description("Searches the current page's accessibility snapshot for text (case-insensitive) or a regular expression (/pattern/i for flags) and returns each match with two lines of context and its [ref=eN] handles; cheaper than a whole snapshot.")]
    public Task<CallToolResult> FindAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Plain text to search for (case-insensitive substring). Provide either text or regex.")] string? text = null,
        [Description("Regular expression to search for; wrap in slashes to add flags, e.g. /error/i. Provide either text or regex.")] string? regex = null,
        [Description(FileNameHelp)] string? filename = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new FindAction(text, regex), cancellationToken);

    private async Task<CallToolResult> RunAsync(RequestContext<CallToolRequestParams> context, string? sessionId, BrowserAction action, CancellationToken cancellationToken) =>
        ToolResults.Text((await browser.ExecuteAsync(context, sessionId, action, cancellationToken)).Text);
}
