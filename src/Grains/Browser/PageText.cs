using System.Text;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// How results read, as <c>@playwright/mcp</c>'s do: the result, what happened to pages and dialogs since the last
/// call, then the page state with an accessibility snapshot whose <c>[ref=eN]</c> handles address elements in the
/// next call. Every read of the page is bounded by the call's deadline.
/// </summary>
public static class PageText
{
    public static async Task<string> PageStateAsync(IPage page, ActionDeadline deadline, string? result, IReadOnlyList<string> notes)
    {
        string snapshot, title;
        using (AnchorTracing.Source.StartActivity("page state"))
        {
            // Asked together: the title's round trip to the page overlaps the snapshot's.
            var snapshotting = page.AriaSnapshotAsync(new PageAriaSnapshotOptions { Mode = AriaSnapshotMode.Ai, Timeout = deadline.TimeoutMs });
            var titling = deadline.Bound(page.TitleAsync());
            await Task.WhenAll(snapshotting, titling);
            (snapshot, title) = (await snapshotting, await titling);
        }

        var text = new StringBuilder();
        if (result is not null)
        {
            text.Append("### Result\n").Append(result).Append("\n\n");
        }

        AppendNotes(text, notes);
        text.Append("### Page state\n")
            .Append("- Page URL: ").Append(page.Url).Append('\n')
            .Append("- Page Title: ").Append(title).Append('\n')
            .Append("- Page Snapshot:\n```yaml\n").Append(snapshot).Append("\n```\n");
        return text.ToString();
    }

    /// <summary>A partial snapshot (one element, a depth, boxes).</summary>
    public static async Task<string> SnapshotAsync(IPage page, ILocator? element, SnapshotAction a, ActionDeadline deadline, IReadOnlyList<string> notes)
    {
        var snapshot = element is not null
            ? await element.AriaSnapshotAsync(new LocatorAriaSnapshotOptions { Mode = AriaSnapshotMode.Ai, Depth = a.Depth, Boxes = a.Boxes, Timeout = deadline.TimeoutMs })
            : await page.AriaSnapshotAsync(new PageAriaSnapshotOptions { Mode = AriaSnapshotMode.Ai, Depth = a.Depth, Boxes = a.Boxes, Timeout = deadline.TimeoutMs });
        var text = new StringBuilder();
        AppendNotes(text, notes);
        text.Append($"### Page state\n- Page URL: {page.Url}\n- Page Title: {await deadline.Bound(page.TitleAsync())}\n- Page Snapshot:\n```yaml\n{snapshot}\n```\n");
        return text.ToString();
    }

    /// <summary>Page and dialog events as a section of their own, or nothing.</summary>
    public static string WithNotes(string text, IReadOnlyList<string> notes)
    {
        if (notes.Count == 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.TrimEnd()).Append("\n\n");
        AppendNotes(builder, notes);
        return builder.ToString().TrimEnd();
    }

    private static void AppendNotes(StringBuilder text, IReadOnlyList<string> notes)
    {
        if (notes.Count == 0)
        {
            return;
        }

        text.Append("### Events\n");
        foreach (var note in notes)
        {
            text.Append("- ").Append(note).Append('\n');
        }

        text.Append('\n');
    }

    /// <summary>Fields found ÷ fields asked, over all records; 0 when nothing matched.</summary>
    public static double Completeness(IReadOnlyList<IReadOnlyDictionary<string, string?>> records, int fieldCount) =>
        records.Count == 0 || fieldCount == 0 ? 0 : Math.Round((double)records.Sum(r => r.Values.Count(v => v is not null)) / (records.Count * fieldCount), 4);

    public static string Describe(ElementTarget element) =>
        element.Description is { Length: > 0 } d ? $"\"{d}\" ({element.Target})" : element.Target;
}
