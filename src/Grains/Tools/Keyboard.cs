using System.ComponentModel;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Tools;

/// <summary><c>browser_type</c> and <c>browser_press_key</c>: the keyboard.</summary>
public sealed class Keyboard(ToolCall call) : IBrowserToolFamily
{
    public static IEnumerable<ActionHandler> Handlers =>
    [
        ActionHandler.For<TypeAction>(changesPage: true, TypeAsync, mayOpenTab: static a => a.Submit),
        ActionHandler.For<PressKeyAction>(changesPage: true, PressKeyAsync, mayOpenTab: static _ => true),
    ];

    [BrowserTool("browser_type", "Type text", typeof(TypeAction))]
    [Description("Types text into an editable element (replacing its content), optionally pressing Enter afterwards, and returns the page state.")]
    public Task<object> TypeAsync(
        [Description("The text to type.")] string text,
        [Description(ToolHelp.Target)] string? target = null,
        [Description(ToolHelp.Element)] string? element = null,
        [Description("Press Enter after typing (submits most forms).")] bool submit = false,
        [Description("Type one character at a time, for pages that react to key presses; slower.")] bool slowly = false,
        [Description(ToolHelp.Ref)] string? @ref = null,
        [Description(ToolHelp.Selector)] string? selector = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new TypeAction(ToolHelp.ElementOf(target, @ref, selector, element), text, submit, slowly), cancellationToken);

    [BrowserTool("browser_press_key", "Press a key", typeof(PressKeyAction))]
    [Description("Presses a key on the keyboard, e.g. ArrowDown, Enter, Escape, Tab or a character such as a.")]
    public Task<object> PressKeyAsync(
        [Description("Key name (ArrowLeft, Enter, Escape, …) or a single character.")] string key,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new PressKeyAction(key), cancellationToken);

    private static async Task<ActionResult> TypeAsync(BrowserPage browser, IPage page, TypeAction a, ActionDeadline deadline)
    {
        var locator = BrowserPage.Resolve(page, a.Element);
        if (a.Slowly)
        {
            await locator.PressSequentiallyAsync(a.Text, new LocatorPressSequentiallyOptions { Timeout = browser.ElementTimeout(deadline) });
        }
        else
        {
            await locator.FillAsync(a.Text, new LocatorFillOptions { Timeout = browser.ElementTimeout(deadline) });
        }

        if (a.Submit)
        {
            browser.Pages.FollowNewPagesFor(deadline.Remaining);
            await locator.PressAsync("Enter", new LocatorPressOptions { Timeout = browser.ElementTimeout(deadline) });
        }

        return await browser.StateAsync(await browser.Pages.CurrentAsync(deadline), deadline, $"Typed into {PageText.Describe(a.Element)}{(a.Submit ? " and submitted" : "")}");
    }

    private static async Task<ActionResult> PressKeyAsync(BrowserPage browser, IPage page, PressKeyAction a, ActionDeadline deadline)
    {
        browser.Pages.FollowNewPagesFor(deadline.Remaining);
        await deadline.Bound(page.Keyboard.PressAsync(a.Key));
        return await browser.StateAsync(await browser.Pages.CurrentAsync(deadline), deadline, $"Pressed {a.Key}");
    }
}
