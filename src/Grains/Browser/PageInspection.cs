using System.Text;
using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// The read-only views of a page that <c>@playwright/mcp</c> offers, worded as it words them: console messages,
/// network requests, and search in the accessibility snapshot. Pure text work over what the page already gave.
/// </summary>
public static class PageInspection
{
    /// <summary>How many matches <c>browser_find</c> shows, and how many snapshot lines around each.</summary>
    public const int MaxMatches = 20;

    public const int ContextLines = 2;

    /// <summary>
    /// How much of the accessibility snapshot <c>browser_find</c> searches: a page's snapshot grows with the page,
    /// and the search runs on the session grain's thread.
    /// </summary>
    public const int MaxSearchChars = 1_000_000;

    public static string Console((IReadOnlyList<ConsoleEntry> Entries, int Dropped) read, ConsoleMessagesAction a)
    {
        var (entries, dropped) = read;
        var text = entries.Count == 0
            ? $"No console messages at level {a.Level} or above{(a.All ? "" : " since the last navigation")}."
            : $"### Console messages ({entries.Count})\n" + string.Join('\n', entries.Select(e => $"- [{e.Level}] {e.Text} @ {e.Url}"));
        return dropped == 0
            ? text
            : $"{text}\n\n{dropped} earlier console message{(dropped == 1 ? " was" : "s were")} dropped since the last look: a page keeps its last {PageActivity.Capacity} messages and {PageActivity.MaxConsoleChars} characters.";
    }

    public static string Requests(IReadOnlyList<RequestEntry> entries, NetworkRequestsAction a, SearchBudget budget)
    {
        var filter = a.Filter is { Length: > 0 } f ? SearchBudget.Pattern(f, RegexOptions.None) : null;
        var shown = entries.Where(r => filter is null || budget.IsMatch(filter, r.Url)).ToList();
        return shown.Count == 0
            ? "No network requests since the page loaded."
            : $"### Network requests ({shown.Count})\n" + string.Join('\n', shown.Select(r => $"{r.Number}. [{r.Method}] {r.Url} ({r.ResourceType}) => [{r.Outcome}]"))
              + "\n\nCall browser_network_request with a number for its headers and body.";
    }

    /// <summary>
    /// Snapshot lines matching, each with <see cref="ContextLines"/> lines around it; the first
    /// <see cref="MaxSearchChars"/> characters of the snapshot are searched, within <paramref name="budget"/>.
    /// </summary>
    public static string Find(string snapshot, FindAction a, SearchBudget budget)
    {
        if (string.IsNullOrEmpty(a.Text) == string.IsNullOrEmpty(a.Regex))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "give either text or regex.");
        }

        var matcher = a.Regex is { Length: > 0 } r ? SearchBudget.Pattern(r, RegexOptions.None) : SearchBudget.Literal(a.Text!);
        var cut = snapshot.Length > MaxSearchChars;
        if (cut)
        {
            // Whole lines only: the last one may be cut in the middle.
            snapshot = snapshot[..(snapshot.LastIndexOf('\n', MaxSearchChars - 1) is var end and > 0 ? end : MaxSearchChars)];
        }

        var searched = cut ? $"the first {snapshot.Length} characters of the page snapshot (its size limit for browser_find)" : "the page snapshot";
        var lines = snapshot.Split('\n');
        var hits = Enumerable.Range(0, lines.Length).Where(i => budget.IsMatch(matcher, lines[i])).ToList();
        if (hits.Count == 0)
        {
            return $"No match for {(a.Text is { Length: > 0 } t ? $"\"{t}\"" : a.Regex)} in {searched}.";
        }

        var text = new StringBuilder($"### {hits.Count} match{(hits.Count == 1 ? "" : "es")}{(hits.Count > MaxMatches ? $" (first {MaxMatches} shown)" : "")}{(cut ? $" in {searched}" : "")}\n");
        foreach (var hit in hits.Take(MaxMatches))
        {
            text.Append("```yaml\n");
            for (var i = Math.Max(0, hit - ContextLines); i <= Math.Min(lines.Length - 1, hit + ContextLines); i++)
            {
                text.Append(lines[i]).Append('\n');
            }

            text.Append("```\n");
        }

        return text.ToString().TrimEnd();
    }
}
