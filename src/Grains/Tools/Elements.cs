using System.ComponentModel;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Tools;

/// <summary><c>browser_click</c>, <c>browser_hover</c>, <c>browser_select_option</c> and <c>browser_drag</c>: acting on elements a snapshot named.</summary>
public sealed class Elements(ToolCall call) : IBrowserToolFamily
{
    /// <summary>Whether an element is (inside) a link or form that opens its target in another tab.</summary>
    private const string OpensNewTabScript = "e => !!e.closest('a[target]:not([target=\"_self\"]):not([target=\"_top\"]):not([target=\"_parent\"]), form[target]:not([target=\"_self\"])')";

    /// <summary>How long a click on a link that targets a new tab waits for that tab to appear.</summary>
    private static readonly TimeSpan NewTabWait = TimeSpan.FromSeconds(2);

    public static IEnumerable<ActionHandler> Handlers =>
    [
        ActionHandler.For<ClickAction>(changesPage: true, ClickAsync, mayOpenTab: static _ => true),
        ActionHandler.For<HoverAction>(changesPage: true, HoverAsync),
        ActionHandler.For<SelectOptionAction>(changesPage: true, SelectAsync),
        ActionHandler.For<DragAction>(changesPage: true, DragAsync),
    ];

    [BrowserTool("browser_click", "Click", typeof(ClickAction))]
    [Description("Clicks an element and returns the resulting page state.")]
    public Task<object> ClickAsync(
        [Description(ToolHelp.Target)] string? target = null,
        [Description(ToolHelp.Element)] string? element = null,
        [Description("Double-click instead of a single click.")] bool doubleClick = false,
        [Description("Mouse button: left (default), right or middle.")] string? button = null,
        [Description("Keys held during the click: Alt, Control, ControlOrMeta, Meta, Shift.")] string[]? modifiers = null,
        [Description(ToolHelp.Ref)] string? @ref = null,
        [Description(ToolHelp.Selector)] string? selector = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new ClickAction(ToolHelp.ElementOf(target, @ref, selector, element), doubleClick, button, modifiers), cancellationToken);

    [BrowserTool("browser_select_option", "Select option", typeof(SelectOptionAction))]
    [Description("Selects one or more options in a <select> element, by value or visible label.")]
    public Task<object> SelectOptionAsync(
        [Description("Values (or labels) of the options to select; several for a multi-select.")] string[] values,
        [Description(ToolHelp.Target)] string? target = null,
        [Description(ToolHelp.Element)] string? element = null,
        [Description(ToolHelp.Ref)] string? @ref = null,
        [Description(ToolHelp.Selector)] string? selector = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new SelectOptionAction(ToolHelp.ElementOf(target, @ref, selector, element), values), cancellationToken);

    [BrowserTool("browser_hover", "Hover", typeof(HoverAction))]
    [Description("Moves the mouse over an element (opens menus and tooltips) and returns the page state.")]
    public Task<object> HoverAsync(
        [Description(ToolHelp.Target)] string? target = null,
        [Description(ToolHelp.Element)] string? element = null,
        [Description(ToolHelp.Ref)] string? @ref = null,
        [Description(ToolHelp.Selector)] string? selector = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new HoverAction(ToolHelp.ElementOf(target, @ref, selector, element)), cancellationToken);

    [BrowserTool("browser_drag", "Drag mouse", typeof(DragAction))]
    [Description("Performs drag and drop between two elements and returns the page state.")]
    public Task<object> DragAsync(
        [Description("The element to drag: a ref from browser_snapshot or a selector.")] string startTarget,
        [Description("The element to drop it on: a ref from browser_snapshot or a selector.")] string endTarget,
        [Description("Human-readable description of the dragged element.")] string? startElement = null,
        [Description("Human-readable description of the drop target.")] string? endElement = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new DragAction(new ElementTarget(startTarget, startElement), new ElementTarget(endTarget, endElement)), cancellationToken);

    private static async Task<ActionResult> ClickAsync(BrowserPage browser, IPage page, ClickAction a, ActionDeadline deadline)
    {
        var locator = BrowserPage.Resolve(page, a.Element);
        var button = ButtonOf(a.Button);
        var modifiers = (a.Modifiers ?? []).Select(ModifierOf).ToArray();
        var opensTab = await locator.EvaluateAsync<bool>(OpensNewTabScript, null, new LocatorEvaluateOptions { Timeout = browser.ElementTimeout(deadline) });
        var newTab = opensTab ? browser.Pages.NextPageAsync() : null;
        browser.Pages.FollowNewPagesFor(deadline.Remaining);
        if (a.DoubleClick)
        {
            await locator.DblClickAsync(new LocatorDblClickOptions { Button = button, Modifiers = modifiers, Timeout = browser.ElementTimeout(deadline) });
        }
        else
        {
            await locator.ClickAsync(new LocatorClickOptions { Button = button, Modifiers = modifiers, Timeout = browser.ElementTimeout(deadline) });
        }

        if (newTab is not null)
        {
            // The tab appears a moment after the click; wait for it so the answer shows the page the agent is now on.
            await newTab.WaitAsync(NewTabWait < deadline.Remaining ? NewTabWait : deadline.Remaining, browser.Time).ContinueWith(static _ => { }, TaskScheduler.Default);
        }

        return await browser.StateAsync(await browser.Pages.CurrentAsync(deadline), deadline, $"{(a.DoubleClick ? "Double-clicked" : "Clicked")} {PageText.Describe(a.Element)}");
    }

    /// <summary>A mouse button by name: left (the default), right or middle.</summary>
    internal static MouseButton ButtonOf(string? name) => name?.ToLowerInvariant() switch
    {
        null or "" or "left" => MouseButton.Left,
        "right" => MouseButton.Right,
        "middle" => MouseButton.Middle,
        _ => throw new AnchorException(ErrorCodes.InvalidArgument, $"button must be left, right or middle (got '{name}')."),
    };

    private static KeyboardModifier ModifierOf(string name) => name switch
    {
        "Alt" => KeyboardModifier.Alt,
        "Control" => KeyboardModifier.Control,
        "ControlOrMeta" => KeyboardModifier.ControlOrMeta,
        "Meta" => KeyboardModifier.Meta,
        "Shift" => KeyboardModifier.Shift,
        _ => throw new AnchorException(ErrorCodes.InvalidArgument, $"modifier '{name}' is not one of Alt, Control, ControlOrMeta, Meta, Shift."),
    };

    private static async Task<ActionResult> SelectAsync(BrowserPage browser, IPage page, SelectOptionAction a, ActionDeadline deadline)
    {
        var selected = await BrowserPage.Resolve(page, a.Element).SelectOptionAsync(a.Values, new LocatorSelectOptionOptions { Timeout = browser.ElementTimeout(deadline) });
        return await browser.StateAsync(page, deadline, $"Selected {string.Join(", ", selected)} in {PageText.Describe(a.Element)}");
    }

    private static async Task<ActionResult> HoverAsync(BrowserPage browser, IPage page, HoverAction a, ActionDeadline deadline)
    {
        await BrowserPage.Resolve(page, a.Element).HoverAsync(new LocatorHoverOptions { Timeout = browser.ElementTimeout(deadline) });
        return await browser.StateAsync(page, deadline, $"Hovered over {PageText.Describe(a.Element)}");
    }

    private static async Task<ActionResult> DragAsync(BrowserPage browser, IPage page, DragAction a, ActionDeadline deadline)
    {
        await BrowserPage.Resolve(page, a.Start).DragToAsync(BrowserPage.Resolve(page, a.End), new LocatorDragToOptions { Timeout = browser.ElementTimeout(deadline) });
        return await browser.StateAsync(page, deadline, $"Dragged {PageText.Describe(a.Start)} to {PageText.Describe(a.End)}");
    }
}
