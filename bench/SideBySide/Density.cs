using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Anchor.Orleans.Bench.Shared;
using Anchor.Orleans.Testing;
using ModelContextProtocol.Client;
using static Anchor.Orleans.Bench.Shared.Stats;

namespace Anchor.Orleans.Bench.SideBySide;

/// <summary>
/// Figure 8 (issue 25): agents per machine. N concurrent agents, each its own MCP client running the same mixed loop
/// (navigate, snapshot, type, click, snapshot on the fixture form), against (a) one silo of this service with
/// governance on (one shared Chromium, a context per session) and (b) N <c>@playwright/mcp --isolated</c> processes
/// (a node process and a Chromium each), on the same Chromium build, through the same C# MCP client. Per N: actions
/// per second, p50 and p95 per action, the PSS of every process involved (the silo process and its Chromium; every
/// peer's node and Chromium), and the CPU they used while measured. The order of the two alternates by level.
/// </summary>
public static class Density
{
    private const string Ours = "Anchor.Orleans", Peer = "@playwright/mcp";

    public static async Task<string> RunAsync(int[] levels, int rounds)
    {
        var rows = new List<Row>();
        await using var silo = await BenchSilo.StartAsync(levels.Max());
        var url = silo.Site.Url("/form");
        string? peerVersion = null;
        for (var i = 0; i < levels.Length; i++)
        {
            var n = levels[i];
            var runs = new Func<Task<Row>>[] { () => OursAsync(silo, n, url, rounds), () => PeersAsync(n, url, rounds, v => peerVersion = v) };
            foreach (var run in i % 2 == 0 ? runs : runs.Reverse())
            {
                var row = await run();
                rows.Add(row);
                Console.Error.WriteLine($"bench: density {row.Who} N={row.N}: {F(row.PerSecond)} actions/s, p50 {F(row.P50)} ms, p95 {F(row.P95)} ms, {F(row.MemoryMb, 0)} MB, {F(row.CpuCores, 2)} cores, {row.FailedRounds} failed rounds {row.FirstFailure}");
            }
        }

        return Report(rows, rounds, peerVersion ?? PeerMcp.PackageVersion());
    }

    private static async Task<Row> OursAsync(BenchSilo silo, int n, string url, int rounds)
    {
        var agents = new List<(McpClient Client, string Session)>();
        for (var i = 0; i < n; i++)
        {
            var client = await silo.ConnectAsync();
            agents.Add((client, await Calls.OpenSessionAsync(client)));
        }

        // This process (the silo), the Playwright driver it runs (a node process) and the Chromium below that; no peer runs now.
        var processes = () => ChromiumProcesses.Below([Environment.ProcessId]).ToList();
        var row = await MeasureAsync(Ours, n, rounds, processes, agents.Select(a => (Func<ConcurrentBag<double>?, Task>)(l => LoopAsync(a.Client, url, new { session_id = a.Session }, s => s, l))).ToList());
        foreach (var (client, session) in agents)
        {
            await client.CallAsync("browser_session_close", new { session_id = session });
            await client.DisposeAsync();
        }

        return row;
    }

    private static async Task<Row> PeersAsync(int n, string url, int rounds, Action<string> version)
    {
        var peers = new List<PeerMcp>();
        try
        {
            for (var i = 0; i < n; i++)
            {
                peers.Add(await PeerMcp.StartAsync());
            }

            version(peers[0].Version);
            var processes = () => ChromiumProcesses.Below(peers.Select(p => p.ProcessId)).ToList();
            return await MeasureAsync(Peer, n, rounds, processes, peers.Select(p => (Func<ConcurrentBag<double>?, Task>)(l => LoopAsync(p.Client, url, new { }, p.SnapshotOf, l))).ToList());
        }
        finally
        {
            foreach (var peer in peers)
            {
                await peer.DisposeAsync();
            }
        }
    }

    /// <summary>One unrecorded round each, one agent after the other (first page, JIT, a peer's Chromium launch), memory with every agent on the page, then the measured rounds, all agents at once.</summary>
    private static async Task<Row> MeasureAsync(string who, int n, int rounds, Func<List<int>> processes, IReadOnlyList<Func<ConcurrentBag<double>?, Task>> agents)
    {
        var errors = new ConcurrentBag<string>();
        async Task Guarded(Task round)
        {
            try
            {
                await round;
            }
            catch (Exception ex) when (ex is InvalidOperationException or ModelContextProtocol.McpException or HttpRequestException or IOException or TimeoutException or OperationCanceledException)
            {
                errors.Add(ex.GetType().Name + ": " + ex.Message.Split('\n')[0]); // Counted and reported: an agent whose call failed goes on with its next round.
            }
        }

        // Warmed one after the other (as agents arrive over time): N browsers launching at once on two cores measure the launch, not the steady state.
        foreach (var agent in agents)
        {
            await Guarded(agent(null));
        }

        var involved = processes();
        var byKind = ProcessMemory.PssMbByKind(involved); // smaps_rollup costs the kernel a page-table walk: read once.
        var memory = byKind.Values.Sum();
        var latencies = new ConcurrentBag<double>();
        var cpuByKind = ProcessMemory.CpuMsByKind(involved);
        var clientsCpu = ChromiumProcesses.CpuMs([Environment.ProcessId]);
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(agents.Select(async a =>
        {
            for (var r = 0; r < rounds; r++)
            {
                await Guarded(a(latencies));
            }
        }));
        var wall = watch.Elapsed;
        var cpuAfter = ProcessMemory.CpuMsByKind(involved);
        var cpuUsed = cpuAfter.Values.Sum() - cpuByKind.Values.Sum();
        var actions = latencies.Count;
        var clientsCpuPerAction = (ChromiumProcesses.CpuMs([Environment.ProcessId]) - clientsCpu) / Math.Max(1, actions);
        var cpuPerAction = cpuAfter.ToDictionary(k => k.Key, k => (k.Value - cpuByKind.GetValueOrDefault(k.Key)) / Math.Max(1, actions), StringComparer.Ordinal);
        return new Row(who, n, latencies.Count / wall.TotalSeconds, latencies.IsEmpty ? double.NaN : Median(latencies), latencies.IsEmpty ? double.NaN : P95(latencies), memory, involved.Count, cpuUsed / wall.TotalMilliseconds, errors.Count, errors.FirstOrDefault(), byKind, cpuPerAction, clientsCpuPerAction);
    }

    /// <summary>navigate, snapshot, type, click, snapshot: five actions, each timed into <paramref name="latencies"/> (null: a warm-up round).</summary>
    private static async Task LoopAsync(McpClient client, string url, object session, Func<string, string> snapshotOf, ConcurrentBag<double>? latencies)
    {
        var (nav, answer) = await Calls.TimedAsync(client, "browser_navigate", ActionLatency.With(session, new() { ["url"] = url }));
        var (shot, snapshot) = await Calls.TimedAsync(client, "browser_snapshot", ActionLatency.With(session, []));
        snapshot = snapshotOf(snapshot.Contains("textbox \"Name\"", StringComparison.Ordinal) ? snapshot : answer);
        var (typed, _) = await Calls.TimedAsync(client, "browser_type", ActionLatency.With(session, new() { ["element"] = "Name", ["target"] = Calls.RefOf(snapshot, "textbox", "Name"), ["text"] = "bench" }));
        var (clicked, _) = await Calls.TimedAsync(client, "browser_click", ActionLatency.With(session, new() { ["element"] = "Greet", ["target"] = Calls.RefOf(snapshot, "button", "Greet") }));
        var (after, _) = await Calls.TimedAsync(client, "browser_snapshot", ActionLatency.With(session, []));
        foreach (var ms in new[] { nav, shot, typed, clicked, after })
        {
            latencies?.Add(ms);
        }
    }

    private static string Report(List<Row> rows, int rounds, string peerVersion)
    {
        var text = new StringBuilder()
            .AppendLine("## 8. Density: agents per machine, side by side")
            .AppendLine()
            .AppendLine($"N concurrent agents, each its own C# MCP client (Streamable HTTP) running one warm-up round (agents one after the other, as they would arrive) and then {rounds} rounds of navigate → snapshot → type → click → snapshot on the fixture form, all agents at once. Ours: one silo in this process (Development, governance on), one Chromium with a context per session. The peer: N `@playwright/mcp` {peerVersion} processes (`--headless --isolated --no-sandbox`), each with its own Chromium. Memory is the PSS of every process involved with every agent on the page (ours: the silo process and everything below it — the Playwright driver, a node process, and its Chromium; the peer: each node process and everything below it); CPU is what those processes used during the measured rounds ÷ wall time (1.00 = one core of this machine's {Environment.ProcessorCount}). The two alternate which goes first by level.")
            .AppendLine()
            .AppendLine("| N | who | actions/s | p50 | p95 | memory (PSS) | MB per agent | processes | CPU (cores) | failed rounds |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows.OrderBy(r => r.N).ThenBy(r => r.Who, StringComparer.Ordinal))
        {
            text.AppendLine($"| {row.N} | {row.Who} | {F(row.PerSecond)} | {F(row.P50)} ms | {F(row.P95)} ms | {F(row.MemoryMb, 0)} MB | {F(row.MemoryMb / row.N, 0)} | {row.Processes} | {F(row.CpuCores, 2)} | {row.FailedRounds}{(row.FirstFailure is { } first ? $" (first: {first})" : "")} |");
        }

        text.AppendLine()
            .AppendLine("Where the memory and the CPU go, by kind of process: PSS in MB (the peer's divided by N, i.e. one agent's set), and CPU milliseconds per measured action (all processes of the kind; a process that ended during the rounds is not counted):")
            .AppendLine()
            .AppendLine("| N | who | memory by process kind | CPU ms per action by process kind |")
            .AppendLine("|---|---|---|---|");
        foreach (var row in rows.OrderBy(r => r.N).ThenBy(r => r.Who, StringComparer.Ordinal))
        {
            var divisor = row.Who == Peer ? row.N : 1;
            text.AppendLine($"| {row.N} | {row.Who} | {Kinds(row.ByKind, divisor)} | {Kinds(row.CpuMsPerAction, 1)} (sum {F(row.CpuMsPerAction.Values.Sum(), 0)}){(row.Who == Peer ? $"; not counted: this process (the agents' clients and the fixture site) {F(row.ThisProcessCpuMsPerAction, 0)}" : "")} |");
        }

        text.AppendLine()
            .AppendLine("A failed round is one in which an agent's call failed (counted, not timed; the agent goes on with its next round); the warm-up round counts too.")
            .AppendLine("| derived | ours | peer |")
            .AppendLine("|---|---|---|");
        string Per(Func<IReadOnlyList<Row>, string> figure) => $"{figure([.. rows.Where(r => r.Who == Ours)])} | {figure([.. rows.Where(r => r.Who == Peer)])}";
        text.AppendLine($"| agents per GB at the largest N | {Per(r => r.Count == 0 ? "n/a" : F(r.MaxBy(x => x.N)!.N / (r.MaxBy(x => x.N)!.MemoryMb / 1024), 1))} |")
            .AppendLine($"| largest N with p95 ≤ 2 × one agent's | {Per(LargestWithinTwice)} |");
        foreach (var n in rows.Select(r => r.N).Distinct().Order())
        {
            var ours = rows.FirstOrDefault(r => r.N == n && r.Who == Ours);
            var peer = rows.FirstOrDefault(r => r.N == n && r.Who == Peer);
            if (ours is not null && peer is not null)
            {
                text.AppendLine($"| N = {n}: ours ÷ peer actions/s, p95, memory per agent | {Ratio(ours.PerSecond, peer.PerSecond)}, {Ratio(ours.P95, peer.P95)}, {Ratio(ours.MemoryMb, peer.MemoryMb)} | |");
            }
        }

        return text.ToString();
    }

    private static string Kinds(IReadOnlyDictionary<string, double> byKind, int divisor) =>
        string.Join(", ", byKind.Where(k => k.Value / divisor >= 0.5).OrderByDescending(k => k.Value).Select(k => $"{k.Key} {F(k.Value / divisor, 0)}"));

    private static string LargestWithinTwice(IReadOnlyList<Row> rows)
    {
        if (rows.FirstOrDefault(r => r.N == 1) is not { } one)
        {
            return "n/a (no level 1)";
        }

        return rows.Where(r => r.P95 <= 2 * one.P95).Select(r => r.N).DefaultIfEmpty(0).Max().ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed record Row(string Who, int N, double PerSecond, double P50, double P95, double MemoryMb, int Processes, double CpuCores, int FailedRounds, string? FirstFailure, IReadOnlyDictionary<string, double> ByKind, IReadOnlyDictionary<string, double> CpuMsPerAction, double ThisProcessCpuMsPerAction);
}
