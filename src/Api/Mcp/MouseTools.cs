using System.ComponentModel;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Tools;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// <c>@playwright/mcp</c>'s coordinate (vision) tools. Off unless a client's <c>Tools:Allow</c> names them
/// (<c>browser_mouse_*</c>): they act on whatever is drawn at a point, past the element checks of the other tools.
/// </summary>
[McpServerToolType]
public sealed class MouseTools(BrowserTools browser)
{
    private const string SessionIdHelp = BrowserTools.SessionIdHelp;

    [ToolFacts(OptIn = true)]
    [McpServerTool(Name = "browser_mouse_click_xy", Title = "Click", OpenWorld = true)]
    [Description("Clicks a mouse button at a position of the viewport and returns the page state.")]
    public Task<CallToolResult> ClickXyAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("X coordinate.")] double x,
        [Description("Y coordinate.")] double y,
        [Description("Button to click: left (default), right or middle.")] string? button = null,
        [Description("Number of clicks (1 to 3), defaults to 1.")] int clickCount = 1,
        [Description("Milliseconds between mouse down and up (at most 5000), defaults to 0.")] double delay = 0,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new MouseAction("click", x, y, Button: button, ClickCount: clickCount, DelayMs: delay), cancellationToken);

    [ToolFacts(OptIn = true)]
    [McpServerTool(Name = "browser_mouse_move_xy", Title = "Move mouse", OpenWorld = true)]
    [Description("Moves the mouse to a position of the viewport.")]
    public Task<CallToolResult> MoveXyAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("X coordinate.")] double x,
        [Description("Y coordinate.")] double y,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new MouseAction("move", x, y), cancellationToken);

    [ToolFacts(OptIn = true)]
    [McpServerTool(Name = "browser_mouse_drag_xy", Title = "Drag mouse", OpenWorld = true)]
    [Description("Drags with the left button from one position of the viewport to another.")]
    public Task<CallToolResult> DragXyAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Start X coordinate.")] double startX,
        [Description("Start Y coordinate.")] double startY,
        [Description("End X coordinate.")] double endX,
        [Description("End Y coordinate.")] double endY,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new MouseAction("drag", startX, startY, endX, endY), cancellationToken);

    [ToolFacts(OptIn = true)]
    [McpServerTool(Name = "browser_mouse_down", Title = "Press mouse down", OpenWorld = true)]
    [Description("Presses a mouse button down where the mouse is.")]
    public Task<CallToolResult> DownAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Button to press: left (default), right or middle.")] string? button = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new MouseAction("down", Button: button), cancellationToken);

    [ToolFacts(OptIn = true)]
    [McpServerTool(Name = "browser_mouse_up", Title = "Press mouse up", OpenWorld = true)]
    [Description("Releases a mouse button where the mouse is.")]
    public Task<CallToolResult> UpAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Button to release: left (default), right or middle.")] string? button = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new MouseAction("up", Button: button), cancellationToken);

    [ToolFacts(OptIn = true)]
    [McpServerTool(Name = "browser_mouse_wheel", Title = "Scroll mouse wheel", OpenWorld = true)]
    [Description("Scrolls the mouse wheel where the mouse is.")]
    public Task<CallToolResult> WheelAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("X delta.")] double deltaX = 0,
        [Description("Y delta.")] double deltaY = 0,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new MouseAction("wheel", deltaX, deltaY), cancellationToken);
}
