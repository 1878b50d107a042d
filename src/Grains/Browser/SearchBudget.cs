using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Interfaces.Errors;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// One call's allowance of regular-expression time. An agent's pattern runs on the session grain's thread, where
/// neither the action deadline nor a close can stop a match once it started, so each match is bounded by the
/// regex's own timeout (<see cref="PerMatch"/>) and all matches of the call together by <see cref="Total"/>,
/// checked between matches with the action's token. The work of one call is therefore at most
/// <see cref="Total"/> plus one <see cref="PerMatch"/>, however many lines a page has.
/// </summary>
public sealed class SearchBudget(TimeProvider time, CancellationToken cancellationToken, TimeSpan total)
{
    /// <summary>The longest one match may run (the <see cref="Regex.MatchTimeout"/> of every agent's pattern).</summary>
    public static readonly TimeSpan PerMatch = TimeSpan.FromMilliseconds(250);

    /// <summary>The regex time one call may spend over all the lines or entries it searches.</summary>
    public static readonly TimeSpan DefaultTotal = TimeSpan.FromSeconds(2);

    /// <summary>The longest pattern an agent may give: longer ones are refused before they are compiled.</summary>
    public const int MaxPatternChars = 1_000;

    private readonly long _started = time.GetTimestamp();

    public TimeSpan Total => total;

    /// <summary>Whether <paramref name="regex"/> matches <paramref name="input"/>, or <c>timeout</c> once the budget is spent.</summary>
    public bool IsMatch(Regex regex, string input)
    {
        cancellationToken.ThrowIfCancellationRequested(); // The deadline passed or the session closed: the caller maps it.
        if (time.GetElapsedTime(_started) > total)
        {
            throw Exceeded(regex);
        }

        try
        {
            return regex.IsMatch(input);
        }
        catch (RegexMatchTimeoutException)
        {
            throw Exceeded(regex);
        }
    }

    /// <summary>A regular expression from an agent, as <c>/pattern/flags</c> or a bare pattern, bounded in length and run time.</summary>
    public static Regex Pattern(string source, RegexOptions options)
    {
        if (source.Length > 2 && source[0] == '/' && source.LastIndexOf('/') is var end and > 0)
        {
            if (source[(end + 1)..].Contains('i', StringComparison.Ordinal))
            {
                options |= RegexOptions.IgnoreCase;
            }

            source = source[1..end];
        }

        if (source.Length > MaxPatternChars)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"a regular expression may have at most {MaxPatternChars} characters (got {source.Length}).");
        }

        try
        {
            return new Regex(source, options | RegexOptions.CultureInvariant, PerMatch);
        }
        catch (ArgumentException ex)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"'{source}' is not a valid regular expression ({ex.Message}).");
        }
    }

    /// <summary>A literal, case-insensitive search as a bounded regex.</summary>
    public static Regex Literal(string text) => text.Length > MaxPatternChars
        ? throw new AnchorException(ErrorCodes.InvalidArgument, $"text may have at most {MaxPatternChars} characters (got {text.Length}).")
        : new(Regex.Escape(text), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, PerMatch);

    private AnchorException Exceeded(Regex regex) => new(
        ErrorCodes.Timeout,
        $"timeout: the regular expression '{Shorten(regex.ToString())}' needed more than {total.TotalSeconds:0.###} s in all (at most {PerMatch.TotalMilliseconds:0} ms per line); "
        + "simplify it (nested quantifiers such as (a+)+ backtrack without end) or search with text.");

    private static string Shorten(string pattern) => pattern.Length > 100 ? pattern[..100] + "…" : pattern;
}
