using System.ComponentModel;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Tools;

/// <summary>
/// <c>browser_snapshot</c>, <c>browser_find</c>, <c>browser_take_screenshot</c> and <c>browser_pdf_save</c>: reading
/// the page as structure, text matches, image or PDF, without changing it.
/// </summary>
public sealed class Snapshots(ToolCall call) : IBrowserToolFamily
{
    public static IEnumerable<ActionHandler> Handlers =>
    [
        ActionHandler.For<SnapshotAction>(changesPage: false, SnapshotAsync),
        ActionHandler.For<FindAction>(changesPage: false, static async (browser, page, a, deadline) => browser.Inspect(PageInspection.Find(
            await page.AriaSnapshotAsync(new PageAriaSnapshotOptions { Mode = AriaSnapshotMode.Ai, Timeout = deadline.TimeoutMs }), a, browser.SearchBudgetOf(deadline)))),
        ActionHandler.For<ScreenshotAction>(changesPage: false, ScreenshotAsync),
        ActionHandler.For<PdfAction>(changesPage: false, PdfAsync),
    ];

    [BrowserTool("browser_snapshot", "Page snapshot", typeof(SnapshotAction))]
    [Description("Captures an accessibility snapshot of the current page: its structure as YAML with a [ref=eN] handle on every element you can act on. Prefer this over screenshots; pass a ref as target to click, type, select or hover.")]
    public Task<object> SnapshotAsync(
        [Description("Snapshot only this element and what it contains: a ref from an earlier snapshot or a selector.")] string? target = null,
        [Description("Limit the snapshot to this many levels of nesting.")] int? depth = null,
        [Description("Include each element's bounding box.")] bool boxes = false,
        [Description("Ignored: the snapshot is returned in the result, never written to the server's disk.")] string? filename = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new SnapshotAction(target is { Length: > 0 } t ? new ElementTarget(t) : null, depth, boxes), cancellationToken);

    [BrowserTool("browser_find", "Find in page", typeof(FindAction))]
    [Description("Searches the current page's accessibility snapshot for text (case-insensitive) or a regular expression (/pattern/i for flags) and returns each match with two lines of context and its [ref=eN] handles; cheaper than a whole snapshot.")]
    public Task<object> FindAsync(
        [Description("Plain text to search for (case-insensitive substring). Provide either text or regex.")] string? text = null,
        [Description("Regular expression to search for; wrap in slashes to add flags, e.g. /error/i. Provide either text or regex.")] string? regex = null,
        [Description(ToolHelp.FileName)] string? filename = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new FindAction(text, regex), cancellationToken);

    [BrowserTool("browser_take_screenshot", "Screenshot", typeof(ScreenshotAction))]
    [Description("Takes a PNG screenshot of the viewport, the full page, or one element, returned as an image. Use browser_snapshot to act on the page; screenshots are for looking.")]
    public Task<object> TakeScreenshotAsync(
        [Description("Capture the whole scrollable page instead of the viewport.")] bool fullPage = false,
        [Description("Capture only this element: a ref from browser_snapshot or a selector.")] string? target = null,
        [Description(ToolHelp.Element)] string? element = null,
        [Description(ToolHelp.Ref)] string? @ref = null,
        [Description("Image type; only png is produced.")] string? type = null,
        [Description("Ignored: the image is returned in the result, never written to the server's disk.")] string? filename = null,
        [Description("css (default): one image pixel per CSS pixel; device: the device's pixel ratio.")] string? scale = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var only = (target ?? @ref) is { Length: > 0 } t ? new ElementTarget(t, element) : null;
        return call.ImageAsync(session_id, new ScreenshotAction(fullPage, only, scale == "device"), cancellationToken);
    }

    [BrowserTool("browser_pdf_save", "Save as PDF", typeof(PdfAction))]
    [Description("Renders the current page as PDF and returns it as an embedded resource (application/pdf); nothing is written to the server's disk.")]
    public Task<object> PdfSaveAsync(
        [Description("Suggested file name for the PDF (used as the resource name only).")] string? filename = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.PdfAsync(session_id, new PdfAction(), filename is { Length: > 0 } f ? Path.GetFileName(f) : "page.pdf", cancellationToken);

    private static async Task<ActionResult> SnapshotAsync(BrowserPage browser, IPage page, SnapshotAction a, ActionDeadline deadline)
    {
        if (a.Element is null && a.Depth is null && !a.Boxes)
        {
            return await browser.StateAsync(page, deadline, null);
        }

        var element = a.Element is { } target ? BrowserPage.Resolve(page, target) : null;
        return new ActionResult(await PageText.SnapshotAsync(page, element, a, deadline, browser.Pages.TakeNotes()));
    }

    private static async Task<ActionResult> ScreenshotAsync(BrowserPage browser, IPage page, ScreenshotAction a, ActionDeadline deadline)
    {
        var scale = a.DeviceScale ? ScreenshotScale.Device : ScreenshotScale.Css;
        var png = a.Element is { } element
            ? await BrowserPage.Resolve(page, element).ScreenshotAsync(new LocatorScreenshotOptions { Type = ScreenshotType.Png, Scale = scale, Timeout = deadline.TimeoutMs })
            : await page.ScreenshotAsync(new PageScreenshotOptions { Type = ScreenshotType.Png, FullPage = a.FullPage, Scale = scale, Timeout = deadline.TimeoutMs });
        var what = a.Element is { } e ? PageText.Describe(e) : a.FullPage ? "the full page" : "the viewport";
        return new ActionResult(PageText.WithNotes($"Screenshot of {what} at {page.Url}", browser.Pages.TakeNotes()), png);
    }

    private static async Task<ActionResult> PdfAsync(BrowserPage browser, IPage page, PdfAction a, ActionDeadline deadline)
    {
        var pdf = await deadline.Bound(page.PdfAsync());
        return new ActionResult(PageText.WithNotes($"PDF of {page.Url} ({pdf.Length} bytes)", browser.Pages.TakeNotes()), Pdf: pdf);
    }
}
