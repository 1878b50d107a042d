using System.ComponentModel;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Tools;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// The browser actions, named and shaped as <c>@playwright/mcp</c>'s so agents written for it work unchanged.
/// Every tool takes an optional <c>session_id</c>; without it the call uses the caller's default session.
/// </summary>
[McpServerToolType]
public sealed class BrowserTools(IGrainFactory grains, TimeProvider time)
{
    internal const string SessionIdHelp = ToolHelp.SessionId;
    private const string TargetHelp = ToolHelp.Target;
    private const string RefHelp = ToolHelp.Ref;
    private const string SelectorHelp = ToolHelp.Selector;
    private const string ElementHelp = ToolHelp.Element;

    [McpServerTool(Name = "browser_snapshot", Title = "Page snapshot", ReadOnly = true, OpenWorld = true)]
    [Description("Captures an accessibility snapshot of the current page: its structure as YAML with a [ref=eN] handle on every element you can act on. Prefer this over screenshots; pass a ref as target to click, type, select or hover.")]
    public Task<CallToolResult> SnapshotAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Snapshot only this element and what it contains: a ref from an earlier snapshot or a selector.")] string? target = null,
        [Description("Limit the snapshot to this many levels of nesting.")] int? depth = null,
        [Description("Include each element's bounding box.")] bool boxes = false,
        [Description("Ignored: the snapshot is returned in the result, never written to the server's disk.")] string? filename = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new SnapshotAction(target is { Length: > 0 } t ? new ElementTarget(t) : null, depth, boxes), cancellationToken);

    [McpServerTool(Name = "browser_click", Title = "Click", OpenWorld = true)]
    [Description("Clicks an element and returns the resulting page state.")]
    public Task<CallToolResult> ClickAsync(
        RequestContext<CallToolRequestParams> context,
        [Description(TargetHelp)] string? target = null,
        [Description(ElementHelp)] string? element = null,
        [Description("Double-click instead of a single click.")] bool doubleClick = false,
        [Description("Mouse button: left (default), right or middle.")] string? button = null,
        [Description("Keys held during the click: Alt, Control, ControlOrMeta, Meta, Shift.")] string[]? modifiers = null,
        [Description(RefHelp)] string? @ref = null,
        [Description(SelectorHelp)] string? selector = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new ClickAction(ToolContext.Element(target, @ref, selector, element), doubleClick, button, modifiers), cancellationToken);

    [McpServerTool(Name = "browser_type", Title = "Type text", OpenWorld = true)]
    [Description("Types text into an editable element (replacing its content), optionally pressing Enter afterwards, and returns the page state.")]
    public Task<CallToolResult> TypeAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The text to type.")] string text,
        [Description(TargetHelp)] string? target = null,
        [Description(ElementHelp)] string? element = null,
        [Description("Press Enter after typing (submits most forms).")] bool submit = false,
        [Description("Type one character at a time, for pages that react to key presses; slower.")] bool slowly = false,
        [Description(RefHelp)] string? @ref = null,
        [Description(SelectorHelp)] string? selector = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new TypeAction(ToolContext.Element(target, @ref, selector, element), text, submit, slowly), cancellationToken);

    [McpServerTool(Name = "browser_press_key", Title = "Press a key", OpenWorld = true)]
    [Description("Presses a key on the keyboard, e.g. ArrowDown, Enter, Escape, Tab or a character such as a.")]
    public Task<CallToolResult> PressKeyAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Key name (ArrowLeft, Enter, Escape, …) or a single character.")] string key,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new PressKeyAction(key), cancellationToken);

    [McpServerTool(Name = "browser_select_option", Title = "Select option", OpenWorld = true)]
    [Description("Selects one or more options in a <select> element, by value or visible label.")]
    public Task<CallToolResult> SelectOptionAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Values (or labels) of the options to select; several for a multi-select.")] string[] values,
        [Description(TargetHelp)] string? target = null,
        [Description(ElementHelp)] string? element = null,
        [Description(RefHelp)] string? @ref = null,
        [Description(SelectorHelp)] string? selector = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new SelectOptionAction(ToolContext.Element(target, @ref, selector, element), values), cancellationToken);

    [McpServerTool(Name = "browser_hover", Title = "Hover", OpenWorld = true)]
    [Description("Moves the mouse over an element (opens menus and tooltips) and returns the page state.")]
    public Task<CallToolResult> HoverAsync(
        RequestContext<CallToolRequestParams> context,
        [Description(TargetHelp)] string? target = null,
        [Description(ElementHelp)] string? element = null,
        [Description(RefHelp)] string? @ref = null,
        [Description(SelectorHelp)] string? selector = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new HoverAction(ToolContext.Element(target, @ref, selector, element)), cancellationToken);

    [McpServerTool(Name = "browser_wait_for", Title = "Wait", ReadOnly = true, OpenWorld = true)]
    [Description("Waits for text to appear, for text to disappear, or for a number of seconds; then returns the page state. Bounded by the action timeout.")]
    public Task<CallToolResult> WaitForAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Seconds to wait.")] double? time = null,
        [Description("Wait until this text is visible on the page.")] string? text = null,
        [Description("Wait until this text is no longer visible.")] string? textGone = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(context, session_id, new WaitForAction(time, text, textGone), cancellationToken);

    [McpServerTool(Name = "browser_take_screenshot", Title = "Screenshot", ReadOnly = true, OpenWorld = true)]
    [Description("Takes a PNG screenshot of the viewport, the full page, or one element, returned as an image. Use browser_snapshot to act on the page; screenshots are for looking.")]
    public async Task<CallToolResult> TakeScreenshotAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Capture the whole scrollable page instead of the viewport.")] bool fullPage = false,
        [Description("Capture only this element: a ref from browser_snapshot or a selector.")] string? target = null,
        [Description(ElementHelp)] string? element = null,
        [Description(RefHelp)] string? @ref = null,
        [Description("Image type; only png is produced.")] string? type = null,
        [Description("Ignored: the image is returned in the result, never written to the server's disk.")] string? filename = null,
        [Description("css (default): one image pixel per CSS pixel; device: the device's pixel ratio.")] string? scale = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var only = (target ?? @ref) is { Length: > 0 } t ? new ElementTarget(t, element) : null;
        var result = await ExecuteAsync(context, session_id, new ScreenshotAction(fullPage, only, scale == "device"), cancellationToken);
        return new CallToolResult
        {
            Content =
            [
                new TextContentBlock { Text = result.Text },
                ImageContentBlock.FromBytes(result.Png ?? [], "image/png"),
            ],
        };
    }

    [ToolFacts(Free = true)]
    [McpServerTool(Name = "browser_close", Title = "Close the browser", Destructive = true, Idempotent = true, OpenWorld = false)]
    [Description("Closes the browser session (your default session unless session_id is given), settles its cost and frees its slot.")]
    public async Task<CallToolResult> CloseAsync(
        RequestContext<CallToolRequestParams> context,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        var (id, _) = ToolContext.Resolve(session_id, clientId);
        var closed = await grains.GetGrain<IBrowserSessionGrain>(id).CloseAsync(clientId, SessionEndReason.Completed);
        ToolReceipts.Charge(context, id, closed.ChargedUsd, closed.CostUsd);
        return ToolResults.Text(closed.Closed ? "Browser closed." : "No browser was open.");
    }

    /// <summary>Runs <paramref name="action"/> in the caller's session and answers with its text.</summary>
    internal async Task<CallToolResult> RunAsync(RequestContext<CallToolRequestParams> context, string? sessionId, BrowserAction action, CancellationToken cancellationToken) =>
        ToolResults.Text((await ExecuteAsync(context, sessionId, action, cancellationToken)).Text);

    /// <summary>How long a call keeps looking for a session whose activation the grain directory is handing over.</summary>
    private static readonly TimeSpan ElsewhereLimit = TimeSpan.FromSeconds(15);

    internal async Task<ActionResult> ExecuteAsync(RequestContext<CallToolRequestParams> context, string? sessionId, BrowserAction action, CancellationToken cancellationToken)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        var (id, isDefault) = ToolContext.Resolve(sessionId, clientId);
        var giveUp = time.GetUtcNow() + ElsewhereLimit;
        while (true)
        {
            try
            {
                // A default session's first call opens it, and waits in the fair queue when the cluster is full.
                var result = await Sessions.SessionQueueWait.OpenAsync(
                    () => grains.GetGrain<IBrowserSessionGrain>(id).ExecuteAsync(clientId, action, openIfNeeded: isDefault, cancellationToken), clientId, context, grains, time, cancellationToken);
                ToolReceipts.Charge(context, id, result.ChargedUsd, result.SessionCostUsd, result.Restored);
                return result;
            }
            catch (SessionElsewhereException) when (time.GetUtcNow() < giveUp)
            {
                // The call reached a stray activation (that has already deactivated); the next one finds the live one.
                await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken);
            }
            catch (SessionElsewhereException)
            {
                throw new AnchorException(ErrorCodes.BrowserError, $"browser_error: session '{id}' could not be reached while the cluster changed; retry in a few seconds.");
            }
        }
    }
}
