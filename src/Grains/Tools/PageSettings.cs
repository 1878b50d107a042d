using System.ComponentModel;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Tools;

/// <summary><c>browser_resize</c> and <c>browser_emulate_media</c>: how the current page is laid out and rendered.</summary>
public sealed class PageSettings(ToolCall call) : IBrowserToolFamily
{
    public static IEnumerable<ActionHandler> Handlers =>
    [
        ActionHandler.For<ResizeAction>(changesPage: true, ResizeAsync),
        ActionHandler.For<EmulateMediaAction>(changesPage: true, EmulateMediaAsync),
    ];

    [BrowserTool("browser_resize", "Resize browser window", typeof(ResizeAction))]
    [Description("Resizes the page's viewport (100 to 10000 pixels each way).")]
    public Task<object> ResizeAsync(
        [Description("Width of the browser window.")] int width,
        [Description("Height of the browser window.")] int height,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new ResizeAction(width, height), cancellationToken);

    [BrowserTool("browser_emulate_media", "Emulate media", typeof(EmulateMediaAction))]
    [Description("Emulates CSS media features for the page, e.g. the dark color scheme or print media. Omitted features are left unchanged. forcedColors and contrast are not supported here.")]
    public Task<object> EmulateMediaAsync(
        [Description("Emulates the prefers-color-scheme media feature: light or dark.")] string? colorScheme = null,
        [Description("Emulates the prefers-reduced-motion media feature: reduce or no-preference.")] string? reducedMotion = null,
        [Description("Emulates the forced-colors media feature (not supported here).")] string? forcedColors = null,
        [Description("Emulates the prefers-contrast media feature (not supported here).")] string? contrast = null,
        [Description("Changes the CSS media type of the page: screen or print.")] string? media = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new EmulateMediaAction(colorScheme, reducedMotion, media, forcedColors, contrast), cancellationToken);

    private static async Task<ActionResult> ResizeAsync(BrowserPage browser, IPage page, ResizeAction a, ActionDeadline deadline)
    {
        if (a.Width is < 100 or > 10_000 || a.Height is < 100 or > 10_000)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"width and height must be between 100 and 10000 pixels (got {a.Width}×{a.Height}).");
        }

        await deadline.Bound(page.SetViewportSizeAsync(a.Width, a.Height));
        return browser.Inspect($"Resized the page to {a.Width}×{a.Height}.");
    }

    private static async Task<ActionResult> EmulateMediaAsync(BrowserPage browser, IPage page, EmulateMediaAction a, ActionDeadline deadline)
    {
        if (a.ForcedColors is not null || a.Contrast is not null)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "forcedColors and contrast cannot be emulated here; colorScheme, reducedMotion and media can.");
        }

        var options = new PageEmulateMediaOptions
        {
            ColorScheme = a.ColorScheme switch
            {
                null => null,
                "light" => ColorScheme.Light,
                "dark" => ColorScheme.Dark,
                _ => throw new AnchorException(ErrorCodes.InvalidArgument, $"colorScheme must be light or dark (got '{a.ColorScheme}')."),
            },
            ReducedMotion = a.ReducedMotion switch
            {
                null => null,
                "reduce" => ReducedMotion.Reduce,
                "no-preference" => ReducedMotion.NoPreference,
                _ => throw new AnchorException(ErrorCodes.InvalidArgument, $"reducedMotion must be reduce or no-preference (got '{a.ReducedMotion}')."),
            },
            Media = a.Media switch
            {
                null => null,
                "screen" => Media.Screen,
                "print" => Media.Print,
                _ => throw new AnchorException(ErrorCodes.InvalidArgument, $"media must be screen or print (got '{a.Media}')."),
            },
        };
        await deadline.Bound(page.EmulateMediaAsync(options));
        var set = new[] { ("colorScheme", a.ColorScheme), ("reducedMotion", a.ReducedMotion), ("media", a.Media) }.Where(f => f.Item2 is not null).Select(f => $"{f.Item1} {f.Item2}");
        var joined = string.Join(", ", set);
        return browser.Inspect($"Emulating {(joined.Length == 0 ? "nothing new" : joined)}.");
    }
}
