using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol.Client;

namespace Anchor.Orleans.Api.Tests.Egress;

/// <summary>
/// A silo with the default byte bounds (Browser:MaxResponseBytes 50 MB, Browser:MaxSessionBytesPerMinute 256 MB)
/// and a site whose page holds 12 iframes of a 40 MB document each (480 MB in all, each frame under the response cap).
/// </summary>
public sealed class HeavyPageFixture : BrowserAppFixture
{
    public const int Frames = 12;
    public const int FrameMegabytes = 40;

    public HeavySite Heavy { get; } = new();

    /// <summary>The agent may evaluate scripts (to count the frames its page got whole), besides every default tool.</summary>
    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Sessions:ActionTimeoutSeconds", "30"),
        ("Anchor:RateLimit:MaxRequests", "10000"),
        ($"Anchor:Clients:{TestKeys.AgentClient}:Tools:Allow:0", "browser_*"),
        ($"Anchor:Clients:{TestKeys.AgentClient}:Tools:Allow:1", "browser_evaluate"));

    public override async ValueTask InitializeAsync()
    {
        await Heavy.StartAsync();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Heavy.DisposeAsync();
    }
}

/// <summary>
/// <c>/frames</c>: a page of <see cref="HeavyPageFixture.Frames"/> iframes of <c>/doc</c>, a 40 MB HTML document (a
/// comment, cheap to parse, then <c>&lt;p id=end&gt;</c>) with its Content-Length; counts what it wrote. What it wrote
/// is not what the browser got: a loopback socket buffers tens of MB (tcp_rmem up to 32 MB here) that the proxy, once
/// it closes the connection, never reads. The page itself tells how many frames arrived whole (<see cref="HeavyPageTests.WholeFramesAsync"/>).
/// </summary>
public sealed class HeavySite : IAsyncDisposable
{
    private LoopbackApp? _app;
    private long _bytesSent;
    private int _documentsServed;

    public int Port => _app!.Port;

    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Documents whose every byte was written to the socket (not necessarily read by anyone).</summary>
    public int DocumentsWritten => Volatile.Read(ref _documentsServed);

    public string Url(string path) => $"http://localhost:{Port}{path}";

    public async Task StartAsync() => _app = await LoopbackApp.StartAsync(app =>
    {
        app.MapGet("/frames", () => Results.Content(
            "<!doctype html><title>Heavy frames</title><p>frames</p>"
                + string.Concat(Enumerable.Range(0, HeavyPageFixture.Frames).Select(i => $"<iframe src=\"/doc?i={i}\"></iframe>")),
            "text/html; charset=utf-8"));
        app.MapGet("/doc", async (HttpContext http) =>
        {
            const string Head = "<!doctype html><title>Doc</title><!--";
            const string Tail = "--><p id=end>end</p>";
            var chunk = new byte[1024 * 1024];
            Array.Fill(chunk, (byte)'a');
            http.Response.ContentType = "text/html; charset=utf-8";
            http.Response.ContentLength = Head.Length + ((long)HeavyPageFixture.FrameMegabytes * chunk.Length) + Tail.Length;
            await http.Response.WriteAsync(Head, http.RequestAborted);
            for (var i = 0; i < HeavyPageFixture.FrameMegabytes; i++)
            {
                await http.Response.Body.WriteAsync(chunk, http.RequestAborted);
                Interlocked.Add(ref _bytesSent, chunk.Length);
            }

            await http.Response.WriteAsync(Tail, http.RequestAborted);
            Interlocked.Increment(ref _documentsServed);
        });
    });

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>
/// A page with 12 iframes of a 40 MB document: the silo fetches none of it (the frames flow through Chromium and the
/// egress proxy in 16 KB buffers), the session goes past its byte budget and is told so in words, its page stays
/// usable (bounded), and another session on the silo keeps answering. The memory bound is asserted; latencies are
/// reported, not asserted (bench/results/2026-12-03-hostile-network.md).
/// </summary>
[Collection(MeasuredAloneCollection.Name)]
public sealed partial class HeavyPageTests(HeavyPageFixture fixture) : IClassFixture<HeavyPageFixture>
{
    /// <summary>The silo's resident memory may grow by at most this while the page loads (it grew by 3.15 GB when the silo fetched the frames).</summary>
    private const long MaxRssGrowth = 256L * 1024 * 1024;

    /// <summary>The silo's managed heap, after a full collection, may grow by at most this.</summary>
    private const long MaxManagedGrowth = 64L * 1024 * 1024;

    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task TwelveFramesOf40Megabytes_StayOutOfTheSilo_TheSessionIsToldItExceeded_AndAnotherSessionAnswers()
    {
        var (client, session) = await fixture.OpenSessionAsync();
        var (other, otherSession) = await fixture.OpenSessionAsync(TestKeys.OtherAgent);
        var form = await other.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = otherSession });
        Assert.True(form.IsError != true, form.Text());
        var idle = await LatenciesAsync(other, otherSession, 20);
        var (rssBefore, managedBefore) = Memory();
        var peakRss = rssBefore;

        var texts = new List<string>();
        var load = Task.Run(async () =>
        {
            texts.Add((await client.CallAsync("browser_navigate", new { url = fixture.Heavy.Url("/frames"), session_id = session })).Text());
            // Polled until the page's bytes stopped flowing or the session was told it went past its budget.
            await Poll.UntilAsync(
                async () =>
                {
                    texts.Add((await client.CallAsync("browser_snapshot", new { session_id = session })).Text());
                    return texts.Any(t => t.StartsWith("browser_error: page exceeded", StringComparison.Ordinal)) || await WholeFramesAsync(client, session) == HeavyPageFixture.Frames;
                },
                done => done,
                Settle,
                "the heavy page to settle",
                TimeSpan.FromMilliseconds(250));
        }, TestContext.Current.CancellationToken);
        var during = new List<double>();
        while (!load.IsCompleted)
        {
            during.AddRange(await LatenciesAsync(other, otherSession, 1));
            peakRss = Math.Max(peakRss, Rss());
        }

        await load;
        var after = await client.CallAsync("browser_snapshot", new { session_id = session });
        var whole = await WholeFramesAsync(client, session);
        var (rssAfter, managedAfter) = Memory();
        peakRss = Math.Max(peakRss, rssAfter);

        var report = $"""
            silo RSS before {Mb(rssBefore)} MB, peak {Mb(peakRss)} MB (+{Mb(peakRss - rssBefore)}), after {Mb(rssAfter)} MB; managed after full GC before {Mb(managedBefore)} MB, after {Mb(managedAfter)} MB (+{Mb(managedAfter - managedBefore)})
            heavy site wrote {Mb(fixture.Heavy.BytesSent)} MB, {fixture.Heavy.DocumentsWritten} of {HeavyPageFixture.Frames} documents whole; the page got {whole} frames whole
            other session browser_snapshot idle p50 {Percentile(idle, 50):0} ms p95 {Percentile(idle, 95):0} ms; during ({during.Count} calls) p50 {Percentile(during, 50):0} ms p95 {Percentile(during, 95):0} ms
            heavy session: {string.Join(" | ", texts.Select(t => t.Split('\n')[0]).Distinct().Take(6))}
            """;
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        Console.WriteLine(report);

        Assert.Contains(texts, t => t == $"browser_error: page exceeded Browser:MaxSessionBytesPerMinute ({256L * 1024 * 1024} bytes received within a minute); the session's connections were closed and new ones are refused for a minute.");
        // 256 MB holds 6 frames of 40 MB; the 7th is cut, and past it nothing new gets through.
        Assert.True(whole <= 6, $"the page got {whole} frames of 40 MB whole: the budget did not bound it");
        Assert.True(after.IsError != true, after.Text());
        Assert.Contains("- Page Title: Heavy frames", after.Text(), StringComparison.Ordinal);
        Assert.True(peakRss - rssBefore < MaxRssGrowth, report);
        Assert.True(managedAfter - managedBefore < MaxManagedGrowth, report);
        Assert.True(during.Count > 0);
        await client.CallAsync("browser_session_close", new { session_id = session });
        await other.CallAsync("browser_session_close", new { session_id = otherSession });
    }

    /// <summary>How many of the page's frames hold their document's end (arrived whole); the frames are same-origin.</summary>
    internal static async Task<int> WholeFramesAsync(McpClient client, string session)
    {
        var counted = await client.CallAsync("browser_evaluate", new
        {
            function = "() => [...document.querySelectorAll('iframe')].filter(f => f.contentDocument?.getElementById('end')).length",
            session_id = session,
        });
        Assert.True(counted.IsError != true, counted.Text());
        return int.Parse(WholeFrames().Match(counted.Text()).Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Times <paramref name="count"/> snapshots of the other session; each must succeed.</summary>
    private static async Task<List<double>> LatenciesAsync(McpClient client, string session, int count)
    {
        var latencies = new List<double>();
        for (var i = 0; i < count; i++)
        {
            var watch = Stopwatch.StartNew();
            var snapshot = await client.CallAsync("browser_snapshot", new { session_id = session });
            latencies.Add(watch.Elapsed.TotalMilliseconds);
            Assert.True(snapshot.IsError != true, snapshot.Text());
        }

        return latencies;
    }

    private static double Percentile(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    [GeneratedRegex(@"^### Result\n([0-9]+)")]
    private static partial Regex WholeFrames();

    private static long Rss()
    {
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }

    private static (long Rss, long Managed) Memory()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return (Rss(), GC.GetTotalMemory(forceFullCollection: true));
    }

    private static string Mb(long bytes) => (bytes / (1024.0 * 1024)).ToString("0", CultureInfo.InvariantCulture);
}
