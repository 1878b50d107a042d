using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Testing;
using ModelContextProtocol.Client;

namespace Anchor.Orleans.Api.Tests.Sessions;

/// <summary>A silo whose agent may evaluate scripts, with a small tab bound, for pages that make unbounded work.</summary>
public sealed class PageBoundsFixture : BrowserAppFixture
{
    public const int MaxPages = 4;

    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Sessions:ActionTimeoutSeconds", "60"),
        ("Anchor:RateLimit:MaxRequests", "100000"), // The measuring session calls without pause.
        ("Anchor:Browser:MaxPagesPerSession", MaxPages.ToString(CultureInfo.InvariantCulture)),
        ($"Anchor:Clients:{TestKeys.AgentClient}:Tools:Allow:0", "browser_evaluate"));
}

/// <summary>
/// Work a hostile page can make unbounded inside a session (regex time, extraction and evaluation results, console
/// and page notes, tabs) stays within its bound; each test also writes the silo's memory and another session's
/// latency under that page (the figures of bench/results/2026-12-03-hostile-pages.md).
/// </summary>
[Collection(MeasuredAloneCollection.Name)]
public sealed partial class PageBoundsTests(PageBoundsFixture fixture) : IClassFixture<PageBoundsFixture>
{
    [Fact]
    public async Task Find_WithABacktrackingRegex_OnALargePage_AnswersTimeoutWithinItsBudget()
    {
        var (client, session) = await fixture.OpenSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/backtracking?lines=3000&run=22"), session_id = session });

        var took = TimeSpan.Zero;
        var found = await MeasureAsync("browser_find (a+)+$ over 3000 lines", async () =>
        {
            var watch = Stopwatch.StartNew();
            var result = await client.CallAsync("browser_find", new { regex = "(a+)+$", session_id = session });
            took = watch.Elapsed;
            return result;
        });
        var literal = await client.CallAsync("browser_find", new { text = "Last line", session_id = session });
        var tooLong = await client.CallAsync("browser_find", new { regex = new string('a', SearchBudget.MaxPatternChars + 1), session_id = session });

        Assert.True(found.IsError, found.Text()[..Math.Min(2_000, found.Text().Length)]);
        Assert.Equal("timeout: the regular expression '(a+)+$' needed more than 2 s in all (at most 250 ms per line); simplify it (nested quantifiers such as (a+)+ backtrack without end) or search with text.", found.Text());
        // The budget, one match past it, and the page's snapshot, MCP and a loaded machine: per line it would be 3000 × 250 ms.
        Assert.True(took < SearchBudget.DefaultTotal + SearchBudget.PerMatch + TimeSpan.FromSeconds(10), $"browser_find took {took.TotalSeconds:0.0} s");
        Assert.StartsWith("### 1 match\n", literal.Text(), StringComparison.Ordinal);
        Assert.Equal($"invalid_argument: a regular expression may have at most {SearchBudget.MaxPatternChars} characters (got {SearchBudget.MaxPatternChars + 1}).", tooLong.Text());
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task Extract_OfNestedElements_WhoseTextIsQuadratic_ReturnsACappedResultMarkedTruncated()
    {
        var (client, session) = await fixture.OpenSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/nested?depth=1000&chars=1000"), session_id = session });

        // Each div's inner div holds the text of all below it: about 500 million characters over the 1000 items.
        var extracted = await MeasureAsync("browser_extract of 1000 nested divs (O(n²) text)", () =>
            client.CallAsync("browser_extract", new { item_selector = "div", fields = new { inner = "div" }, session_id = session }));

        Assert.True(extracted.IsError != true, extracted.Text());
        var json = extracted.Json();
        Assert.True(json.GetProperty("truncated").GetBoolean());
        var values = json.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("inner").GetString()!).ToList();
        // 50 values of 10,000 characters reach the 500,000 in all; each says it was cut.
        Assert.Equal(PageReads.MaxExtractChars / PageReads.MaxExtractValueChars, values.Count);
        Assert.All(values, v => Assert.Equal(PageReads.MaxExtractValueChars + 1, v.Length));
        Assert.All(values, v => Assert.EndsWith("…", v, StringComparison.Ordinal));
        Assert.StartsWith("n1 xxx", values[0], StringComparison.Ordinal);
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task Extract_WithinTheLimits_IsNotMarkedTruncated()
    {
        var (client, session) = await fixture.OpenSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/list"), session_id = session });

        var extracted = await client.CallAsync("browser_extract", new { item_selector = "li.item", fields = new { name = "h2", link = "a@href" }, session_id = session });

        Assert.Equal("{\"records\":[{\"name\":\"Kettle\",\"link\":\"/p/kettle\"},{\"name\":\"Toaster\",\"link\":\"/p/toaster\"},{\"name\":\"Mug\",\"link\":\"/p/mug\"}],\"completeness\":1,\"cached\":false,\"truncated\":false}", extracted.Text());
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task Evaluate_ReturningAHundredMillionCharacters_IsCutInThePage_AndTheSiloAllocatesLittle()
    {
        var (client, session) = await fixture.OpenSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = session });
        await client.CallAsync("browser_evaluate", new { function = "() => 1", session_id = session }); // Warm: the first call compiles.

        var huge = await MeasureAsync("browser_evaluate of a 100-million-character string", () =>
            client.CallAsync("browser_evaluate", new { function = "() => 'x'.repeat(100_000_000)", session_id = session }));
        // Alone, so that only this call's allocations count.
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var again = await client.CallAsync("browser_evaluate", new { function = "() => 'x'.repeat(100_000_000)", session_id = session });
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        var structured = await client.CallAsync("browser_evaluate", new { function = "() => ({ a: [1, 'b', null, undefined], c: undefined, d: { e: true } })", session_id = session });
        var cyclic = await client.CallAsync("browser_evaluate", new { function = "() => { const o = { name: 'o' }; o.self = o; return o; }", session_id = session });

        Assert.Equal("### Result\n\"" + new string('x', PageReads.MaxEvaluationChars - 1) + $"… (cut at {PageReads.MaxEvaluationChars} characters)", huge.Text());
        Assert.Equal(huge.Text(), again.Text());
        // The whole string as JSON through the driver would be over 300 MB in the silo (UTF-8 message, then UTF-16 text).
        TestContext.Current.TestOutputHelper?.WriteLine($"allocated by the silo during the call: {allocated / 1048576.0:0.0} MB");
        Assert.True(allocated < 64L * 1024 * 1024, $"the silo allocated {allocated / 1048576.0:0.0} MB");
        Assert.Equal("### Result\n{\"a\":[1,\"b\",null,null],\"d\":{\"e\":true}}", structured.Text());
        Assert.Equal("### Result\n{\"name\":\"o\",\"self\":\"[circular]\"}", cyclic.Text());
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task ConsoleFlood_OfOneHundredThousandMessages_IsThrottledInThePage_EachMessageDeliveredOrCounted()
    {
        var (client, session) = await fixture.OpenSessionAsync();
        const int Count = 100_000;

        var last = await MeasureAsync("a console flood of 100,000 messages", async () =>
        {
            await client.CallAsync("browser_navigate", new { url = fixture.Site.Url($"/console-flood?count={Count}&chars=0"), session_id = session });
            // The page says how many it dropped a second after it began dropping.
            return await Poll.UntilAsync(
                async () => (await client.CallAsync("browser_console_messages", new { level = "info", session_id = session })).Text(),
                r => ThrottledLine().IsMatch(r),
                TimeSpan.FromSeconds(60),
                "the page's count of dropped console messages");
        });

        var delivered = last.Split('\n').Count(l => l.StartsWith("- [info] flood ", StringComparison.Ordinal));
        var throttled = int.Parse(ThrottledLine().Match(last).Groups[1].Value, CultureInfo.InvariantCulture);
        // The flood's 100,001 messages (its last is "flood done"): the burst and what the rate let through reached the
        // silo, in order; every other one was dropped in the page and counted there.
        Assert.Equal(Count + 1, delivered + throttled);
        Assert.InRange(delivered, ConsoleThrottle.Burst, PageActivity.Capacity - 1);
        Assert.Contains($"- [info] flood {ConsoleThrottle.Burst - 1}  @ ", last, StringComparison.Ordinal);
        Assert.Equal(0, DroppedOf(last));
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task ConsoleFlood_OfLongMessages_KeepsAtMostTheCharacterBound()
    {
        var (client, session) = await fixture.OpenSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/console-flood?count=1000&chars=5000"), session_id = session });

        var read = "";
        await Poll.UntilAsync(
            async () => read = (await client.CallAsync("browser_console_messages", new { level = "info", session_id = session })).Text(),
            r => ThrottledLine().IsMatch(r),
            TimeSpan.FromSeconds(120),
            "the page's count of dropped console messages");

        var kept = read.Split('\n').Where(l => l.StartsWith("- [info] flood ", StringComparison.Ordinal)).ToList();
        // The burst (200) reached the silo; each message is cut at 2,000 characters, with its URL about 2,040: 98 fit in 200,000.
        Assert.InRange(kept.Count, 2, PageActivity.MaxConsoleChars / PageActivity.MaxMessageChars);
        Assert.All(kept, l => Assert.Contains("y…", l, StringComparison.Ordinal));
        Assert.True(read.Length < PageActivity.MaxConsoleChars + 100 * (kept.Count + 1), $"{read.Length} characters");
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task PopupStorm_OfTwoHundredWindows_LeavesAtMostTheTabBound_AndAtMostTwentyNotesACall()
    {
        var (client, session) = await fixture.OpenSessionAsync();
        const int Count = 200;

        // The storm is over for the session once a call reports surplus windows and the next reports nothing new.
        var results = await MeasureAsync("a popup storm of 200 windows", async () =>
        {
            var results = new List<string> { (await client.CallAsync("browser_navigate", new { url = fixture.Site.Url($"/popup-storm?count={Count}"), session_id = session })).Text() };
            var deadline = Stopwatch.StartNew();
            while (!(results.Any(r => NotKept().IsMatch(r)) && ReportedOf(results[^1]) == 0) && deadline.Elapsed < TimeSpan.FromSeconds(120))
            {
                results.Add((await client.CallAsync("browser_tabs", new { action = "list", session_id = session })).Text());
            }

            return results;
        });
        var tabs = (await client.CallAsync("browser_tabs", new { action = "list", session_id = session })).Text();

        TestContext.Current.TestOutputHelper?.WriteLine($"calls until the storm was reported: {results.Count}; windows reported: {results.Sum(ReportedOf)}; notes per call: {string.Join(", ", results.Select(EventsOf))}");
        // Chromium may refuse a few of the 200 itself; each window it opened is reported once.
        Assert.InRange(results.Sum(ReportedOf), PageSet.MaxNotes + 2, Count);
        Assert.Equal(PageBoundsFixture.MaxPages, tabs.Split('\n').Count(l => TabLine().IsMatch(l)));
        Assert.All(results, r => Assert.InRange(EventsOf(r), 0, PageSet.MaxNotes + 1));
        Assert.Contains(results, r => NotKept().IsMatch(r));
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    /// <summary>How many page events a result reports: its notes, counting "N more … not kept" as N.</summary>
    private static int ReportedOf(string text)
    {
        var at = text.IndexOf("### Events\n", StringComparison.Ordinal);
        return at < 0 ? 0 : text[(at + "### Events\n".Length)..].Split('\n').TakeWhile(l => l.StartsWith("- ", StringComparison.Ordinal))
            .Sum(l => NotKept().Match(l) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 1);
    }

    /// <summary>
    /// Runs <paramref name="hostile"/> while another client's session takes snapshots on the same silo, and writes
    /// that session's p95 (idle and under the page) and the silo's memory (resident, managed) before and after.
    /// </summary>
    private async Task<T> MeasureAsync<T>(string what, Func<Task<T>> hostile)
    {
        var (other, otherSession) = await fixture.OpenSessionAsync(TestKeys.OtherAgent);
        await other.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = otherSession });
        var idle = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            idle.Add(await TimeAsync(other, otherSession));
        }

        using var process = Process.GetCurrentProcess();
        var managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        process.Refresh();
        var rssBefore = process.WorkingSet64;
        var peak = rssBefore;
        var busy = new List<double>();
        var running = hostile();
        while (!running.IsCompleted)
        {
            busy.Add(await TimeAsync(other, otherSession));
            process.Refresh();
            peak = Math.Max(peak, process.WorkingSet64);
        }

        var result = await running;
        var managedAfter = GC.GetTotalMemory(forceFullCollection: true);
        process.Refresh();
        await other.CallAsync("browser_session_close", new { session_id = otherSession });
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"MEASURE | {what} | other session p95 idle {P95(idle):0} ms, under the page {P95(busy):0} ms (n={busy.Count}) | silo RSS {rssBefore / 1048576.0:0} MB, peak {peak / 1048576.0:0} MB (+{(peak - rssBefore) / 1048576.0:0}), after {process.WorkingSet64 / 1048576.0:0} MB | managed heap {managedBefore / 1048576.0:0.0} → {managedAfter / 1048576.0:0.0} MB"));
        return result;
    }

    private static async Task<double> TimeAsync(McpClient client, string session)
    {
        var watch = Stopwatch.StartNew();
        var snapshot = await client.CallAsync("browser_snapshot", new { session_id = session });
        Assert.True(snapshot.IsError != true, snapshot.Text());
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double P95(List<double> samples) =>
        samples.Count == 0 ? double.NaN : samples.Order().ElementAt((int)Math.Ceiling(samples.Count * 0.95) - 1);

    private static int DroppedOf(string read) =>
        DroppedLine().Match(read) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    /// <summary>How many notes the Events section of a result lists.</summary>
    private static int EventsOf(string text)
    {
        var at = text.IndexOf("### Events\n", StringComparison.Ordinal);
        return at < 0 ? 0 : text[(at + "### Events\n".Length)..].Split('\n').TakeWhile(l => l.StartsWith("- ", StringComparison.Ordinal)).Count();
    }

    [GeneratedRegex("anchor: ([0-9]+) console messages were dropped \\(a page may log ")]
    private static partial Regex ThrottledLine();

    [GeneratedRegex("([0-9]+) earlier console messages? (?:was|were) dropped since the last look")]
    private static partial Regex DroppedLine();

    [GeneratedRegex("- ([0-9]+) more page events? (?:was|were) not kept: a session reports at most 20 between two calls\\.")]
    private static partial Regex NotKept();

    [GeneratedRegex(@"^- [0-9]+:")]
    private static partial Regex TabLine();
}
