using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Anchor.Orleans.Testing;
using ModelContextProtocol.Client;
using static Anchor.Orleans.Bench.Shared.Stats;

namespace Anchor.Orleans.Bench.SideBySide;

/// <summary>
/// Figure 10 (issue 25): where new sessions open when three silos carry unequal real load. Three silo processes on
/// Redis (Production), each with <c>Anchor:Sessions:MaxCpuPercent</c> = the given threshold; silo 1 on a CPU of its
/// own, silos 2 and 3 sharing another (taskset), as pods with their own CPU quotas. Silo 1 is loaded for real: sessions
/// opened through its own front (it is under its threshold then, so they stay there) each on a page that keeps its
/// renderer busy. Once silo 1's published CPU share is over the threshold, new sessions are created through silo 1's
/// front and then through silo 2's, and the operator listing's silo column counts where each one opened.
/// </summary>
public static class Placement
{
    public static async Task<string> RunAsync(int busyPages, int sessions, int thresholdPercent)
    {
        await using var site = new FixtureSite();
        await site.InitializeAsync();
        var redis = new RedisServer();
        await redis.InitializeAsync();
        var clusterId = $"placement-{Guid.NewGuid():N}";
        var settings = BrowserAppFixture.BaseSettings(
            ("Anchor:Sessions:MaxPerClient", $"{busyPages + (2 * sessions)}"),
            ("Anchor:Sessions:MaxConcurrent", $"{busyPages + (2 * sessions)}"),
            ("Anchor:Sessions:MaxCpuPercent", thresholdPercent.ToString(CultureInfo.InvariantCulture)),
            ("Logging:LogLevel:Default", "Warning"));
        settings["Anchor:Cluster:ServiceId"] = clusterId;
        foreach (var (key, value) in AnchorAppHost.RedisSettings(redis, clusterId))
        {
            settings[key] = value;
        }

        // Silo 1 has a CPU of its own (as a pod has its quota), silos 2 and 3 share the other: on shared cores one silo's
        // busy pages and another's work compete, and a silo's share says little about its own load.
        string?[] cpus = Environment.ProcessorCount >= 2 ? ["0", "1", "1"] : [null, null, null];
        List<SiloProcess> silos = [.. cpus.Select(c => SiloProcess.Start(settings, "Production", cpus: c))];
        var clients = new List<McpClient>();
        try
        {
            using var ops = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            ops.DefaultRequestHeaders.Authorization = new("Bearer", TestKeys.Operator);
            var names = new List<string>();
            foreach (var silo in silos)
            {
                names.Add(await silo.ReadyInClusterAsync(ops, 3, TimeSpan.FromSeconds(180)));
                await Poll.UntilAsync(() => CpuAsync(ops, silo), cpu => cpu is not null, TimeSpan.FromSeconds(30), $"{silo.BaseAddress} to publish its load");
            }

            var idle = await LoadsAsync(ops, silos);
            var busyAgent = await McpTestClient.ConnectAsync(silos[0].BaseAddress, TestKeys.Agent);
            clients.Add(busyAgent);
            var busy = new List<string>();
            for (var i = 0; i < busyPages; i++)
            {
                var session = await Calls.OpenSessionAsync(busyAgent);
                await Calls.TimedAsync(busyAgent, "browser_navigate", new { session_id = session, url = site.Url("/spin") });
                busy.Add(session);
            }

            var busyOn = (await ListAsync(ops, silos[0])).Where(s => busy.Contains(s.Key)).Select(s => s.Value).ToList();
            // Two readings in a row over the threshold: the board other silos read is then past one report period too.
            var over = 0;
            await Poll.UntilAsync(
                async () => (await CpuAsync(ops, silos[0]) ?? 0) * 100 > thresholdPercent ? ++over : over = 0,
                n => n >= 2,
                TimeSpan.FromSeconds(60),
                $"silo 1's CPU share to pass {thresholdPercent} % with {busyPages} busy pages");
            var loaded = await LoadsAsync(ops, silos);

            var rows = new List<(string Front, int[] PerSilo, int Refused)>();
            foreach (var (front, label) in new[] { (silos[0], "silo 1 (busy)"), (silos[1], "silo 2") })
            {
                var agent = await McpTestClient.ConnectAsync(front.BaseAddress, TestKeys.Agent);
                clients.Add(agent);
                var created = new List<string>();
                var refused = 0;
                for (var i = 0; i < sessions; i++)
                {
                    var result = await agent.CallAsync("browser_session_create");
                    if (result.IsError == true)
                    {
                        refused++;
                        continue;
                    }

                    created.Add(result.Json().GetProperty("session_id").GetString()!);
                }

                var listed = await ListAsync(ops, front);
                rows.Add((label, [.. names.Select(n => created.Count(c => listed.GetValueOrDefault(c) == n))], refused));
            }

            var after = await LoadsAsync(ops, silos);
            var text = new StringBuilder()
                .AppendLine("## 10. Placement under unequal real load (three silos)")
                .AppendLine()
                .AppendLine($"Three silo processes on Redis (Production; with taskset, silo 1 on CPU {cpus[0] ?? "any"} of its own and silos 2 and 3 sharing CPU {cpus[1] ?? "any"}, as pods with CPU quotas: each silo's share is of the CPUs it may use), each with `Anchor:Sessions:MaxCpuPercent={thresholdPercent}`. Silo 1 is loaded for real: {busyPages} session(s) on a page that keeps its renderer busy ~90 % of the time, opened through silo 1's front (placed as any new session: they opened on {string.Join(", ", busyOn.Select(s => $"silo {names.IndexOf(s) + 1}"))}). Once silo 1's published CPU share was over {thresholdPercent} % twice in a row, {sessions} new sessions were created through silo 1's front, then {sessions} through silo 2's; the operator listing's silo column says where each opened. A session is placed on the silo whose front received it while that silo is under its thresholds, else on the least loaded silo under them (loads compared in 5-point bands, ties by open sessions).")
                .AppendLine()
                .AppendLine("| published CPU share of the tree (silo 1, 2, 3) | |")
                .AppendLine("|---|---|")
                .AppendLine($"| idle, before any session | {idle} |")
                .AppendLine($"| with silo 1's busy pages | {loaded} |")
                .AppendLine($"| after the new sessions | {after} |")
                .AppendLine()
                .AppendLine("| created through | opened on silo 1 (busy) | on silo 2 | on silo 3 | refused |")
                .AppendLine("|---|---|---|---|---|");
            foreach (var (front, perSilo, refused) in rows)
            {
                text.AppendLine($"| {front} | {perSilo[0]} | {perSilo[1]} | {perSilo[2]} | {refused} |");
            }

            return text.ToString();
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }

            await redis.DisposeAsync();
        }
    }

    /// <summary>A silo's published CPU share (anchor_silo_cpu_ratio), null before its first reading.</summary>
    private static async Task<double?> CpuAsync(HttpClient ops, SiloProcess silo)
    {
        var line = (await ops.GetStringAsync(new Uri(silo.BaseAddress, "metrics"))).Split('\n').FirstOrDefault(l => l.StartsWith("anchor_silo_cpu_ratio", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line.Trim().Split(' ')[^1], CultureInfo.InvariantCulture);
    }

    private static async Task<string> LoadsAsync(HttpClient ops, IEnumerable<SiloProcess> silos)
    {
        var shares = new List<string>();
        foreach (var silo in silos)
        {
            shares.Add((await CpuAsync(ops, silo)) is { } cpu ? $"{F(cpu * 100, 0)} %" : "n/a");
        }

        return string.Join(", ", shares);
    }

    /// <summary>Open sessions by id, with the silo each runs on (the cluster-wide operator listing).</summary>
    private static async Task<Dictionary<string, string>> ListAsync(HttpClient ops, SiloProcess silo) =>
        (await ops.GetFromJsonAsync<JsonElement>(new Uri(silo.BaseAddress, "api/sessions"))).GetProperty("sessions").EnumerateArray()
            .ToDictionary(s => s.GetProperty("session_id").GetString()!, s => s.GetProperty("silo").GetString()!);
}
