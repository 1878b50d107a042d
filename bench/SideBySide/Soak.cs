using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Anchor.Orleans.Bench.Shared;
using Anchor.Orleans.Testing;
using static Anchor.Orleans.Bench.Shared.Stats;

namespace Anchor.Orleans.Bench.SideBySide;

/// <summary>
/// Figure 6: a soak — <c>sessions</c> sessions busy without pause (navigate → type → click) for
/// <c>seconds</c>, memory sampled throughout: the slope (least squares, MB per minute) of the silo process's
/// resident set, its managed heap after a collection, and Chromium's PSS.
/// </summary>
public static class Soak
{
    public static async Task<string> RunAsync(int seconds, int sessions)
    {
        await using var silo = await BenchSilo.StartAsync(sessions);
        var url = silo.Site.Url("/form");
        var ours = await silo.ConnectAsync();
        var ids = new List<string>();
        for (var i = 0; i < sessions; i++)
        {
            ids.Add(await Calls.OpenSessionAsync(ours));
        }

        await Task.WhenAll(ids.Select(s => Workload.RoundAsync(ours, s, url, [])));
        var latencies = new ConcurrentBag<double>();
        var samples = new List<(double Minute, double Resident, double Heap, double Chromium)>();
        var watch = Stopwatch.StartNew();
        var end = TimeSpan.FromSeconds(seconds);
        var interval = TimeSpan.FromSeconds(Math.Clamp(seconds / 60, 1, 10));
        var load = Task.WhenAll(ids.Select(async s =>
        {
            while (watch.Elapsed < end)
            {
                await Workload.RoundAsync(ours, s, url, latencies);
            }
        }));
        using (var timer = new PeriodicTimer(interval))
        {
            do
            {
                samples.Add((watch.Elapsed.TotalMinutes, ProcessMemory.ResidentMb(Environment.ProcessId), GC.GetTotalMemory(forceFullCollection: true) / 1048576.0, ProcessMemory.ChromiumPssMb(silo.ChromiumMarker)));
            }
            while (!load.IsCompleted && await timer.WaitForNextTickAsync());
        }

        await load;
        foreach (var s in ids)
        {
            await ours.CallAsync("browser_session_close", new { session_id = s });
        }

        await ours.DisposeAsync();
        // The first fifth of the run is warm-up (caches, pools, JIT fill up once): the slope is taken over the rest,
        // and again over the last half alone — memory that levels off has a last-half slope well below the whole one.
        var steady = samples.Where(x => x.Minute >= samples[^1].Minute / 5).ToList();
        var lastHalf = samples.Where(x => x.Minute >= samples[^1].Minute / 2).ToList();
        string Row(string what, Func<(double Minute, double Resident, double Heap, double Chromium), double> pick) =>
            $"| {what} | {F(pick(samples[0]))} MB | {F(pick(samples[^1]))} MB | {F(Slope([.. steady.Select(x => (x.Minute, pick(x)))]), 2)} MB/min | {F(Slope([.. lastHalf.Select(x => (x.Minute, pick(x)))]), 2)} MB/min |";
        var text = new StringBuilder()
            .AppendLine("## 6. Soak at steady load")
            .AppendLine()
            .AppendLine($"{sessions} sessions busy without pause for {seconds} s on one silo (Development, governance on): {latencies.Count} actions, {F(latencies.Count / watch.Elapsed.TotalSeconds)} actions/s, action p50 {F(Median(latencies))} ms, p95 {F(P95(latencies))} ms. Memory sampled every {interval.TotalSeconds:0} s ({samples.Count} samples); slope by least squares over the samples after the first fifth of the run ({steady.Count}; the first fifth is warm-up), and over the last half ({lastHalf.Count}).")
            .AppendLine()
            .AppendLine("| memory | first sample | last sample | slope after warm-up | slope over the last half |")
            .AppendLine("|---|---|---|---|---|")
            .AppendLine(Row("silo process resident set", x => x.Resident))
            .AppendLine(Row("silo managed heap (after a full collection)", x => x.Heap))
            .AppendLine(Row("Chromium PSS (all its processes)", x => x.Chromium))
            .AppendLine()
            .AppendLine("The curve, one sample in each tenth of the run:")
            .AppendLine()
            .AppendLine("| minute | resident set | managed heap | Chromium PSS |")
            .AppendLine("|---|---|---|---|");
        foreach (var tenth in Enumerable.Range(0, 11).Select(i => samples[Math.Min(samples.Count - 1, i * (samples.Count - 1) / 10)]).Distinct())
        {
            text.AppendLine($"| {F(tenth.Minute, 1)} | {F(tenth.Resident)} MB | {F(tenth.Heap)} MB | {F(tenth.Chromium)} MB |");
        }

        return text
            .ToString();
    }
}
