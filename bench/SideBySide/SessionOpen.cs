using System.Diagnostics;
using System.Text;
using Anchor.Orleans.Testing;
using static Anchor.Orleans.Bench.Shared.Stats;

namespace Anchor.Orleans.Bench.SideBySide;

/// <summary>
/// Figure 2: a session open until its page is usable, ours (<c>browser_session_create</c>, which opens the context
/// and its page before answering; then the first <c>browser_snapshot</c>) against raw Playwright in a warm browser
/// (<c>NewContextAsync</c> + <c>NewPageAsync</c>; then the first snapshot), interleaved: Playwright's default switches, and
/// the service's own (so what the service's switches save Chromium is not counted as the service's speed). Closing is
/// not timed.
/// </summary>
public static class SessionOpen
{
    public static async Task<string> RunAsync(int rounds)
    {
        await using var silo = await BenchSilo.StartAsync(4);
        await using var raw = await RawBrowser.StartAsync();
        await using var switched = await RawBrowser.StartAsync(RawChromium.ServiceSwitches);
        var ours = await silo.ConnectAsync();
        List<double> oursOpen = [], oursUsable = [], rawOpen = [], rawUsable = [], switchedOpen = [], switchedUsable = [];
        for (var round = -2; round < rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            var session = await Calls.OpenSessionAsync(ours);
            var opened = watch.Elapsed.TotalMilliseconds;
            await Calls.TimedAsync(ours, "browser_snapshot", new { session_id = session });
            var usable = watch.Elapsed.TotalMilliseconds;
            await ours.CallAsync("browser_session_close", new { session_id = session });
            var (rawOpened, rawUsed) = await RawOpenAsync(raw);
            var (switchedOpened, switchedUsed) = await RawOpenAsync(switched);
            if (round >= 0)
            {
                oursOpen.Add(opened);
                oursUsable.Add(usable);
                rawOpen.Add(rawOpened);
                rawUsable.Add(rawUsed);
                switchedOpen.Add(switchedOpened);
                switchedUsable.Add(switchedUsed);
            }
        }

        await ours.DisposeAsync();
        return new StringBuilder()
            .AppendLine("## 2. Session open to a usable page")
            .AppendLine()
            .AppendLine($"{rounds} rounds after 2 warm-up rounds (Chromium already running on both sides), interleaved; ours through the C# MCP client, governance on (session budget reservation, concurrency slot, registry).")
            .AppendLine()
            .AppendLine("| figure | ours p50 | ours p95 | raw p50 | raw p95 | ours ÷ raw (p50 / p95) |")
            .AppendLine("|---|---|---|---|---|---|")
            .AppendLine($"| open: `browser_session_create` vs `NewContextAsync` + `NewPageAsync` | {F(Median(oursOpen))} ms | {F(P95(oursOpen))} ms | {F(Median(rawOpen))} ms | {F(P95(rawOpen))} ms | {Ratio(Median(oursOpen), Median(rawOpen))} / {Ratio(P95(oursOpen), P95(rawOpen))} |")
            .AppendLine($"| open + first snapshot answered | {F(Median(oursUsable))} ms | {F(P95(oursUsable))} ms | {F(Median(rawUsable))} ms | {F(P95(rawUsable))} ms | {Ratio(Median(oursUsable), Median(rawUsable))} / {Ratio(P95(oursUsable), P95(rawUsable))} |")
            .AppendLine($"| open, raw with the service's Chromium switches | {F(Median(oursOpen))} ms | {F(P95(oursOpen))} ms | {F(Median(switchedOpen))} ms | {F(P95(switchedOpen))} ms | {Ratio(Median(oursOpen), Median(switchedOpen))} / {Ratio(P95(oursOpen), P95(switchedOpen))} |")
            .AppendLine($"| open + first snapshot, raw with the service's switches | {F(Median(oursUsable))} ms | {F(P95(oursUsable))} ms | {F(Median(switchedUsable))} ms | {F(P95(switchedUsable))} ms | {Ratio(Median(oursUsable), Median(switchedUsable))} / {Ratio(P95(oursUsable), P95(switchedUsable))} |")
            .ToString();
    }

    /// <summary>A raw context and page (opened), then its first snapshot (usable), in milliseconds; the context is closed untimed.</summary>
    private static async Task<(double Opened, double Usable)> RawOpenAsync(RawBrowser raw)
    {
        var watch = Stopwatch.StartNew();
        var context = await raw.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var opened = watch.Elapsed.TotalMilliseconds;
        await RawBrowser.SnapshotAsync(page);
        var usable = watch.Elapsed.TotalMilliseconds;
        await context.CloseAsync();
        return (opened, usable);
    }
}
