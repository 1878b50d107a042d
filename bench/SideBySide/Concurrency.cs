using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Anchor.Orleans.Bench.Shared;
using Anchor.Orleans.Testing;
using static Anchor.Orleans.Bench.Shared.Stats;

namespace Anchor.Orleans.Bench.SideBySide;

/// <summary>
/// Figure 4: N sessions on one silo, all busy at once (each running rounds of navigate → type → click): action
/// latency against one session, and memory per session (Chromium's proportional set via /proc, and the silo
/// process's resident set), one level after the other on the same silo and browser.
/// </summary>
public static class Concurrency
{
    public static async Task<string> RunAsync(int[] levels, int rounds)
    {
        await using var silo = await BenchSilo.StartAsync(levels.Max());
        var url = silo.Site.Url("/form");
        var ours = await silo.ConnectAsync();
        // Chromium launched and warm, no session open: the baseline memory is measured against.
        var warm = await Calls.OpenSessionAsync(ours);
        await Workload.RoundAsync(ours, warm, url, []);
        await ours.CallAsync("browser_session_close", new { session_id = warm });
        var pid = Environment.ProcessId;
        var chromiumIdle = ProcessMemory.ChromiumPssMb(silo.ChromiumMarker);
        var siloIdle = ProcessMemory.ResidentMb(pid);

        var rows = new List<(int N, double P50, double P95, double PerSecond, double ChromiumPerSession, double SiloPerSession)>();
        foreach (var n in levels)
        {
            var sessions = new List<string>();
            for (var i = 0; i < n; i++)
            {
                sessions.Add(await Calls.OpenSessionAsync(ours));
            }

            // One unrecorded round each (first page in each context), then the memory with every session on a page.
            await Task.WhenAll(sessions.Select(s => Workload.RoundAsync(ours, s, url, [])));
            var chromium = ProcessMemory.ChromiumPssMb(silo.ChromiumMarker);
            var resident = ProcessMemory.ResidentMb(pid);
            var latencies = new ConcurrentBag<double>();
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(sessions.Select(async s =>
            {
                for (var r = 0; r < rounds; r++)
                {
                    await Workload.RoundAsync(ours, s, url, latencies);
                }
            }));
            var perSecond = latencies.Count / watch.Elapsed.TotalSeconds;
            foreach (var s in sessions)
            {
                await ours.CallAsync("browser_session_close", new { session_id = s });
            }

            rows.Add((n, Median(latencies), P95(latencies), perSecond, (chromium - chromiumIdle) / n, (resident - siloIdle) / n));
        }

        await ours.DisposeAsync();
        var one = rows.FirstOrDefault(r => r.N == 1);
        var text = new StringBuilder()
            .AppendLine("## 4. Concurrent sessions on one silo")
            .AppendLine()
            .AppendLine($"Levels {string.Join(", ", levels)}, one after the other on one silo (Development, governance on) and one Chromium; every session opened, one warm-up round, then {rounds} rounds of navigate → type → click with all sessions busy at once. Latency is per action (all three tools pooled). Memory: Chromium's summed PSS with every session on the form page minus Chromium's PSS with none open (warm, {F(chromiumIdle, 0)} MB), over N; the silo (this process, .NET + Orleans + the Playwright driver's pipe) resident set likewise (idle {F(siloIdle, 0)} MB; RSS grows with the GC heap, so read it as an upper bound).")
            .AppendLine()
            .AppendLine("| sessions | action p50 | action p95 | p95 ÷ one session | actions/s | Chromium MB per session | silo MB per session |")
            .AppendLine("|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            text.AppendLine($"| {row.N} | {F(row.P50)} ms | {F(row.P95)} ms | {(one.N == 1 ? Ratio(row.P95, one.P95) : "n/a (no level 1)")} | {F(row.PerSecond)} | {F(row.ChromiumPerSession)} | {F(row.SiloPerSession)} |");
        }

        return text.ToString();
    }
}
