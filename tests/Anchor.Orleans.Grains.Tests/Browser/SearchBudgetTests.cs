using System.Diagnostics;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Grains.Tests.Browser;

/// <summary>
/// <c>browser_find</c>'s search without a browser: one call's regex time is bounded in all, not per line; the
/// action's token stops it between lines; patterns and the text searched are bounded in size.
/// </summary>
public sealed class SearchBudgetTests
{
    /// <summary>A clock that moves <see cref="Step"/> each time it is read: every line searched "takes" that long.</summary>
    private sealed class SteppingTime : TimeProvider
    {
        public static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks += Step.Ticks;
    }

    private static string Lines(int count, string line) => string.Join('\n', Enumerable.Repeat(line, count));

    [Fact]
    public void Find_AnswersTimeout_OnceTheCallsBudgetIsSpent_HoweverFastEachLine()
    {
        var budget = new SearchBudget(new SteppingTime(), CancellationToken.None, TimeSpan.FromSeconds(2));

        var failure = Assert.Throws<AnchorException>(() => PageInspection.Find(Lines(10_000, "- paragraph: nothing here"), new FindAction(Regex: "needle"), budget));

        Assert.Equal(ErrorCodes.Timeout, failure.Code);
        Assert.Equal("timeout: the regular expression 'needle' needed more than 2 s in all (at most 250 ms per line); simplify it (nested quantifiers such as (a+)+ backtrack without end) or search with text.", failure.Message);
    }

    [Fact]
    public void Find_AnswersTimeout_WhenOneLineBacktracksPastItsLimit()
    {
        var budget = new SearchBudget(TimeProvider.System, CancellationToken.None, SearchBudget.DefaultTotal);
        var watch = Stopwatch.StartNew();

        var failure = Assert.Throws<AnchorException>(() => PageInspection.Find("- paragraph: " + new string('a', 40) + "!", new FindAction(Regex: "(a+)+$"), budget));

        Assert.Equal(ErrorCodes.Timeout, failure.Code);
        Assert.True(watch.Elapsed < SearchBudget.DefaultTotal, $"took {watch.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public void Find_StopsBetweenLines_WhenTheActionIsCancelled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var budget = new SearchBudget(TimeProvider.System, cancelled.Token, SearchBudget.DefaultTotal);

        Assert.ThrowsAny<OperationCanceledException>(() => PageInspection.Find(Lines(10, "a"), new FindAction(Text: "a"), budget));
    }

    [Fact]
    public void Find_SearchesTheFirstMillionCharactersOfTheSnapshot_AndSaysSo()
    {
        var budget = new SearchBudget(TimeProvider.System, CancellationToken.None, SearchBudget.DefaultTotal);
        var filler = Lines(PageInspection.MaxSearchChars / 10, "- text: x"); // 10 characters a line with its newline
        var snapshot = filler + "\n- heading: beyond the limit";

        var found = PageInspection.Find(snapshot, new FindAction(Text: "beyond"), budget);

        Assert.Equal($"No match for \"beyond\" in the first {PageInspection.MaxSearchChars - 1} characters of the page snapshot (its size limit for browser_find).", found);
    }

    [Fact]
    public void Pattern_LongerThanItsLimit_IsRefusedAsInvalidArgument()
    {
        var failure = Assert.Throws<AnchorException>(() => SearchBudget.Pattern(new string('a', SearchBudget.MaxPatternChars + 1), System.Text.RegularExpressions.RegexOptions.None));

        Assert.Equal(ErrorCodes.InvalidArgument, failure.Code);
        Assert.Equal($"invalid_argument: a regular expression may have at most {SearchBudget.MaxPatternChars} characters (got {SearchBudget.MaxPatternChars + 1}).", failure.Message);
    }
}
