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

    private static readonly TimeSpan RegexLimit = TimeSpan.FromMilliseconds(250);

    public static string Console(IReadOnlyList<ConsoleEntry> entries, ConsoleMessagesAction a) => entries.Count == 0
        ? $"No console messages at level {a.Level} or above{(a.All ? "" : " since the last navigation")}."
        : $"### Console messages ({entries.Count})\n" + string.Join('\n', entries.Select(e => $"- [{e.Level}] {e.Text} @ {e.Url}"));

    public static string Requests(IReadOnlyList<RequestEntry> entries, NetworkRequestsAction a)
    {
        var filter = a.Filter is { Length: > 0 } f ? Pattern(f, RegexOptions.None) : null;
        var shown = entries.Where(r => filter?.IsMatch(r.Url) != false).ToList();
        return shown.Count == 0
            ? "No network requests since the page loaded."
            : $"### Network requests ({shown.Count})\n" + string.Join('\n', shown.Select(r => $"{r.Number}. [{r.Method}] {r.Url} ({r.ResourceType}) => [{r.Outcome}]"))
              + "\n\nCall browser_network_request with a number for its headers and body.";
    }

    /// <summary>Snapshot lines matching, each with <see cref="ContextLines"/> lines around it.</summary>
    public static string Find(string snapshot, FindAction a)
    {
        if (string.IsNullOrEmpty(a.Text) == string.IsNullOrEmpty(a.Regex))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "invalid_argument: give either text or regex.");
        }

        var matcher = a.Regex is { Length: > 0 } r
            ? Pattern(r, RegexOptions.None)
            : new Regex(Regex.Escape(a.Text!), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, RegexLimit);
        var lines = snapshot.Split('\n');
        var hits = Enumerable.Range(0, lines.Length).Where(i => matcher.IsMatch(lines[i])).ToList();
        if (hits.Count == 0)
        {
            return $"No match for {(a.Text is { Length: > 0 } t ? $"\"{t}\"" : a.Regex)} in the page snapshot.";
        }

        var text = new StringBuilder($"### {hits.Count} match{(hits.Count == 1 ? "" : "es")}{(hits.Count > MaxMatches ? $" (first {MaxMatches} shown)" : "")}\n");
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

    /// <summary>A regular expression from an agent, as <c>/pattern/flags</c> or a bare pattern, bounded in run time.</summary>
    private static Regex Pattern(string source, RegexOptions options)
    {
        if (source.Length > 2 && source[0] == '/' && source.LastIndexOf('/') is var end and > 0)
        {
            if (source[(end + 1)..].Contains('i', StringComparison.Ordinal))
            {
                options |= RegexOptions.IgnoreCase;
            }

            source = source[1..end];
        }

        try
        {
            return new Regex(source, options | RegexOptions.CultureInvariant, RegexLimit);
        }
        catch (ArgumentException ex)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: '{source}' is not a valid regular expression ({ex.Message}).");
        }
    }
}
