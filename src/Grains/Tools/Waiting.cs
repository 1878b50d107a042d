using System.ComponentModel;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Tools;

/// <summary><c>browser_wait_for</c>: a time, text to appear or text to go, within the call's deadline.</summary>
public sealed class Waiting(ToolCall call) : IBrowserToolFamily
{
    public static IEnumerable<ActionHandler> Handlers => [ActionHandler.For<WaitForAction>(changesPage: false, WaitForAsync)];

    [BrowserTool("browser_wait_for", "Wait", typeof(WaitForAction))]
    [Description("Waits for text to appear, for text to disappear, or for a number of seconds; then returns the page state. Bounded by the action timeout.")]
    public Task<object> WaitForAsync(
        [Description("Seconds to wait.")] double? time = null,
        [Description("Wait until this text is visible on the page.")] string? text = null,
        [Description("Wait until this text is no longer visible.")] string? textGone = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new WaitForAction(time, text, textGone), cancellationToken);

    /// <summary>Waits for a time, for text, or for text to go — never longer than the call's deadline.</summary>
    private static async Task<ActionResult> WaitForAsync(BrowserPage browser, IPage page, WaitForAction a, ActionDeadline deadline)
    {
        if (a.TimeSeconds is { } seconds)
        {
            var wait = TimeSpan.FromSeconds(Math.Max(0, seconds));
            if (wait >= deadline.Remaining)
            {
                throw new AnchorException(ErrorCodes.InvalidArgument, $"a wait of {seconds:0.###} s does not fit in the call's limit of {deadline.Limit.TotalSeconds:0.#} s (Sessions:ActionTimeoutSeconds); wait in shorter steps.");
            }

            await Task.Delay(wait, browser.Time, deadline.Token);
        }

        if (!string.IsNullOrEmpty(a.Text))
        {
            // Bound: a cancelled call stops waiting at once (the abandoned wait only reads the page, until its timeout).
            await deadline.Bound(page.GetByText(a.Text).First.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible, Timeout = deadline.TimeoutMs }));
        }

        if (!string.IsNullOrEmpty(a.TextGone))
        {
            await deadline.Bound(page.GetByText(a.TextGone).First.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Hidden, Timeout = deadline.TimeoutMs }));
        }

        var what = a.Text is { Length: > 0 } ? $"text \"{a.Text}\" appeared" : a.TextGone is { Length: > 0 } ? $"text \"{a.TextGone}\" disappeared" : $"waited {a.TimeSeconds:0.###} s";
        return await browser.StateAsync(page, deadline, $"Waited until {what}");
    }
}
