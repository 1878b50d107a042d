using System.ComponentModel;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Tools;

/// <summary>
/// <c>@playwright/mcp</c>'s coordinate (vision) tools. Off unless a client's <c>Tools:Allow</c> names them
/// (<c>browser_mouse_*</c>): they act on whatever is drawn at a point, past the element checks of the other tools.
/// </summary>
public sealed class Mouse(ToolCall call) : IBrowserToolFamily
{
    public static IEnumerable<ActionHandler> Handlers => [ActionHandler.For<MouseAction>(changesPage: true, MouseAsync)];

    [BrowserTool("browser_mouse_click_xy", "Click", typeof(MouseAction), OptIn = true)]
    [Description("Clicks a mouse button at a position of the viewport and returns the page state.")]
    public Task<object> ClickXyAsync(
        [Description("X coordinate.")] double x,
        [Description("Y coordinate.")] double y,
        [Description("Button to click: left (default), right or middle.")] string? button = null,
        [Description("Number of clicks (1 to 3), defaults to 1.")] int clickCount = 1,
        [Description("Milliseconds between mouse down and up (at most 5000), defaults to 0.")] double delay = 0,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new MouseAction("click", x, y, Button: button, ClickCount: clickCount, DelayMs: delay), cancellationToken);

    [BrowserTool("browser_mouse_move_xy", "Move mouse", typeof(MouseAction), OptIn = true)]
    [Description("Moves the mouse to a position of the viewport.")]
    public Task<object> MoveXyAsync(
        [Description("X coordinate.")] double x,
        [Description("Y coordinate.")] double y,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new MouseAction("move", x, y), cancellationToken);

    [BrowserTool("browser_mouse_drag_xy", "Drag mouse", typeof(MouseAction), OptIn = true)]
    [Description("Drags with the left button from one position of the viewport to another.")]
    public Task<object> DragXyAsync(
        [Description("Start X coordinate.")] double startX,
        [Description("Start Y coordinate.")] double startY,
        [Description("End X coordinate.")] double endX,
        [Description("End Y coordinate.")] double endY,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new MouseAction("drag", startX, startY, endX, endY), cancellationToken);

    [BrowserTool("browser_mouse_down", "Press mouse down", typeof(MouseAction), OptIn = true)]
    [Description("Presses a mouse button down where the mouse is.")]
    public Task<object> DownAsync(
        [Description("Button to press: left (default), right or middle.")] string? button = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new MouseAction("down", Button: button), cancellationToken);

    [BrowserTool("browser_mouse_up", "Press mouse up", typeof(MouseAction), OptIn = true)]
    [Description("Releases a mouse button where the mouse is.")]
    public Task<object> UpAsync(
        [Description("Button to release: left (default), right or middle.")] string? button = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new MouseAction("up", Button: button), cancellationToken);

    [BrowserTool("browser_mouse_wheel", "Scroll mouse wheel", typeof(MouseAction), OptIn = true)]
    [Description("Scrolls the mouse wheel where the mouse is.")]
    public Task<object> WheelAsync(
        [Description("X delta.")] double deltaX = 0,
        [Description("Y delta.")] double deltaY = 0,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new MouseAction("wheel", deltaX, deltaY), cancellationToken);

    /// <summary>The mouse at viewport coordinates, for pages whose elements a snapshot cannot name.</summary>
    private static async Task<ActionResult> MouseAsync(BrowserPage browser, IPage page, MouseAction a, ActionDeadline deadline)
    {
        var mouse = page.Mouse;
        var button = Elements.ButtonOf(a.Button);
        browser.Pages.FollowNewPagesFor(deadline.Remaining);
        var done = a.Kind switch
        {
            "click" => await Run(mouse.ClickAsync((float)a.X, (float)a.Y, new MouseClickOptions { Button = button, ClickCount = Math.Clamp(a.ClickCount, 1, 3), Delay = (float)Math.Clamp(a.DelayMs, 0, 5_000) }), $"Clicked at ({a.X}, {a.Y})"),
            "move" => await Run(mouse.MoveAsync((float)a.X, (float)a.Y), $"Moved the mouse to ({a.X}, {a.Y})"),
            "down" => await Run(mouse.DownAsync(new MouseDownOptions { Button = button }), $"Pressed the {a.Button ?? "left"} button"),
            "up" => await Run(mouse.UpAsync(new MouseUpOptions { Button = button }), $"Released the {a.Button ?? "left"} button"),
            "wheel" => await Run(mouse.WheelAsync((float)a.X, (float)a.Y), $"Scrolled by ({a.X}, {a.Y})"),
            "drag" => await DragXyAsync(mouse, a, deadline),
            _ => throw new AnchorException(ErrorCodes.InvalidArgument, $"unknown mouse action '{a.Kind}'."),
        };
        return await browser.StateAsync(await browser.Pages.CurrentAsync(deadline), deadline, done);

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
}
