using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Anchor.Orleans.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Anchor.Orleans.Bench.Shared.Stats;

namespace Anchor.Orleans.Bench.SideBySide;

/// <summary>
/// Figure 5: emergency stop on a two-silo cluster — two silo processes (Production, Redis clustering and storage, a
/// real redis-server), <c>sessions</c> open sessions per silo, each on a page. The switch is tripped through the
/// first silo's HTTP API; timed from sending the trip: when each silo refuses a call on its own session (polled
/// every 10 ms over MCP), and when the cluster-wide session list is empty. Then the switch is reset and the next
/// round opens its sessions again.
/// </summary>
public static class EmergencyStopDrill
{
    public static async Task<string> RunAsync(int rounds, int sessions)
    {
        await using var site = new FixtureSite();
        await site.InitializeAsync();
        await using var redis = new RedisServer();
        await redis.InitializeAsync();
        var clusterId = $"bench-{Guid.NewGuid():N}";
        var perSilo = (sessions * 2).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var settings = BrowserAppFixture.BaseSettings(("Anchor:Sessions:MaxConcurrent", perSilo), ("Anchor:Sessions:MaxPerClient", perSilo), ("Anchor:RateLimit:MaxRequests", "1000000"));
        settings["Anchor:Cluster:ServiceId"] = clusterId;
        foreach (var (key, value) in AnchorAppHost.RedisSettings(redis, clusterId))
        {
            settings[key] = value;
        }

        var silos = new[] { SiloProcess.Start(settings, "Production"), SiloProcess.Start(settings, "Production") };
        using var ops = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        ops.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestKeys.Operator);
        var startup = Stopwatch.StartNew();
        try
        {
            foreach (var silo in silos)
            {
                await silo.ReadyInClusterAsync(ops, 2, TimeSpan.FromSeconds(180));
            }

            var formed = startup.Elapsed;
            var clients = new List<McpClient>();
            foreach (var silo in silos)
            {
                clients.Add(await McpTestClient.ConnectAsync(silo.BaseAddress, TestKeys.Agent));
            }

            List<double> refusedAll = [], closedAll = [], tripAnswered = [];
            for (var round = 0; round < rounds; round++)
            {
                var open = new List<(McpClient Client, string Session)>();
                foreach (var client in clients)
                {
                    for (var i = 0; i < sessions; i++)
                    {
                        // After a reset, a silo accepts work again once it has heard the switch: retry until it does.
                        var session = await Poll.UntilAsync(() => Calls.OpenSessionAsync(client), _ => true, TimeSpan.FromSeconds(30), "a session after the reset");
                        await Calls.TimedAsync(client, "browser_navigate", new { url = site.Url("/form"), session_id = session });
                        open.Add((client, session));
                    }
                }

                var watch = Stopwatch.StartNew();
                var trip = ops.PostAsJsonAsync(new Uri(silos[0].BaseAddress, "api/emergency-shutdown"), new { reason = "bench drill" });
                var refused = clients.Select(client => Poll.UntilAsync(
                    async () =>
                    {
                        var result = await client.CallAsync("browser_snapshot", new { session_id = open.First(o => o.Client == client).Session });
                        return (Refused: result.IsError == true && (result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text ?? "").StartsWith("emergency_shutdown", StringComparison.Ordinal), At: watch.Elapsed.TotalMilliseconds);
                    },
                    r => r.Refused,
                    TimeSpan.FromSeconds(10),
                    "the silo to refuse work",
                    TimeSpan.FromMilliseconds(10))).ToList();
                var closed = Poll.UntilAsync(
                    async () => (Count: (await ops.GetFromJsonAsync<JsonElement>(new Uri(silos[0].BaseAddress, "api/sessions"))).GetProperty("count").GetInt32(), At: watch.Elapsed.TotalMilliseconds),
                    s => s.Count == 0,
                    TimeSpan.FromSeconds(30),
                    "every session to close",
                    TimeSpan.FromMilliseconds(20));
                using (var answer = await trip)
                {
                    answer.EnsureSuccessStatusCode();
                    tripAnswered.Add(watch.Elapsed.TotalMilliseconds);
                }

                refusedAll.Add((await Task.WhenAll(refused)).Max(r => r.At));
                closedAll.Add((await closed).At);
                (await ops.DeleteAsync(new Uri(silos[0].BaseAddress, "api/emergency-shutdown"))).EnsureSuccessStatusCode();
            }

            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            return new StringBuilder()
                .AppendLine("## 5. Emergency stop on a 2-silo cluster")
                .AppendLine()
                .AppendLine($"Two silo processes (Production: Redis clustering and storage, a real redis-server on loopback), formed in {formed.TotalSeconds:F0} s; {sessions} session(s) per silo on the form page, {rounds} round(s). Times from sending `POST /api/emergency-shutdown` to the first silo: refused = the later of the two silos to answer a call on its own session with `emergency_shutdown` (each polled every 10 ms over MCP); closed = `GET /api/sessions` (cluster-wide) reports 0 (polled every 20 ms).")
                .AppendLine()
                .AppendLine("| figure | p50 | p95 | max |")
                .AppendLine("|---|---|---|---|")
                .AppendLine($"| trip acknowledged | {F(Median(tripAnswered))} ms | {F(P95(tripAnswered))} ms | {F(tripAnswered.Max())} ms |")
                .AppendLine($"| trip → refused on every silo | {F(Median(refusedAll))} ms | {F(P95(refusedAll))} ms | {F(refusedAll.Max())} ms |")
                .AppendLine($"| trip → last session closed | {F(Median(closedAll))} ms | {F(P95(closedAll))} ms | {F(closedAll.Max())} ms |")
                .ToString();
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }
}
