using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Testing;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Cluster.Tests;

/// <summary>
/// Three silo processes on real Redis, one of them configured with <c>Anchor:Sessions:MaxCpuPercent=1</c> so that it is
/// over its threshold (a silo's own work, Orleans and the front, is several percent of the machine): sessions created
/// through its front open on the other two, as the operator listing's silo column shows. The loads are printed.
/// </summary>
public sealed class LoadPlacementClusterTests(RedisServer redis, ITestOutputHelper output) : IClassFixture<RedisServer>
{
    private const int Sessions = 6;
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task NewSessions_ThroughAnOverloadedSilosFront_OpenOnTheOtherTwo()
    {
        var clusterId = $"load-{Guid.NewGuid():N}";
        var settings = BrowserAppFixture.BaseSettings(("Anchor:Sessions:MaxPerClient", $"{Sessions}"), ("Anchor:Sessions:MaxConcurrent", $"{Sessions * 2}"));
        settings["Anchor:Cluster:ServiceId"] = clusterId;
        foreach (var (key, value) in AnchorAppHost.RedisSettings(redis, clusterId))
        {
            settings[key] = value;
        }

        var hotSettings = new Dictionary<string, string?>(settings) { ["Anchor:Sessions:MaxCpuPercent"] = "1" };
        List<SiloProcess> silos = [SiloProcess.Start(hotSettings, "Production"), SiloProcess.Start(settings, "Production"), SiloProcess.Start(settings, "Production")];
        try
        {
            using var ops = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            ops.DefaultRequestHeaders.Authorization = new("Bearer", TestKeys.Operator);
            var names = new List<string>();
            foreach (var silo in silos)
            {
                names.Add(await silo.ReadyInClusterAsync(ops, 3, TimeSpan.FromSeconds(120), Ct));
            }

            // Every silo has sampled its load (the gauges are out); the board reaches the hot silo within a report period.
            var loads = new List<string>();
            foreach (var silo in silos)
            {
                loads.Add(await Poll.UntilAsync(() => GaugesAsync(ops, silo), g => g.Contains("anchor_silo_memory_ratio", StringComparison.Ordinal), TimeSpan.FromSeconds(30), $"{silo.BaseAddress} to publish its load"));
            }

            await using var agent = await McpTestClient.ConnectAsync(silos[0].BaseAddress, TestKeys.Agent);
            var created = new List<string>();
            var refusals = new List<string>();
            for (var i = 0; i < Sessions; i++)
            {
                // An agent retries a concurrency_limit refusal; one can only come before the hot silo has read the board.
                var session = await Poll.UntilAsync(
                    async () =>
                    {
                        var result = await agent.CallAsync("browser_session_create");
                        if (result.IsError == true)
                        {
                            refusals.Add(result.Text());
                            return null;
                        }

                        return SessionId(result);
                    },
                    id => id is not null,
                    TimeSpan.FromSeconds(30),
                    $"session {i + 1} to open; refusals: {string.Join(" | ", refusals)}");
                created.Add(session!);
            }

            var listed = (await ops.GetFromJsonAsync<JsonElement>(new Uri(silos[0].BaseAddress, "api/sessions"), Ct)).GetProperty("sessions").EnumerateArray()
                .ToDictionary(s => s.GetProperty("session_id").GetString()!, s => s.GetProperty("silo").GetString()!);
            var perSilo = names.Select(n => listed.Values.Count(s => s == n)).ToArray();
            output.WriteLine($"loads before: {string.Join(" || ", loads)}");
            output.WriteLine($"sessions per silo (hot, 2, 3): {string.Join(", ", perSilo)}; refusals before the board arrived: {refusals.Count}");

            Assert.Equal(created.Order(), listed.Keys.Order());
            Assert.Equal(0, perSilo[0]);
            Assert.Equal(Sessions, perSilo[1] + perSilo[2]);
            Assert.All(refusals, r => Assert.StartsWith("concurrency_limit: this silo's", r, StringComparison.Ordinal));
            foreach (var session in created)
            {
                var closed = await agent.CallAsync("browser_session_close", new { session_id = session });
                Assert.True(closed.IsError != true, closed.Text());
            }
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task NewSession_OnALoneSiloOverItsCpuThreshold_IsRefusedWithTheFigureAndKey_AndCounted()
    {
        var clusterId = $"load-{Guid.NewGuid():N}";
        var settings = BrowserAppFixture.BaseSettings(("Anchor:Sessions:MaxCpuPercent", "1"));
        settings["Anchor:Cluster:ServiceId"] = clusterId;
        foreach (var (key, value) in AnchorAppHost.RedisSettings(redis, clusterId))
        {
            settings[key] = value;
        }

        await using var silo = SiloProcess.Start(settings, "Production");
        using var ops = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        ops.DefaultRequestHeaders.Authorization = new("Bearer", TestKeys.Operator);
        await Poll.UntilAsync(async () => (await ops.GetAsync(new Uri(silo.BaseAddress, "health/ready"), Ct)).IsSuccessStatusCode, TimeSpan.FromSeconds(120), $"the silo to be ready; output: {silo.OutputTail}");
        var load = await Poll.UntilAsync(() => GaugesAsync(ops, silo), g => g.Contains("anchor_silo_cpu_ratio", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the silo to publish its load");
        await using var agent = await McpTestClient.ConnectAsync(silo.BaseAddress, TestKeys.Agent);

        var refused = await agent.CallAsync("browser_session_create");
        var metrics = await ops.GetStringAsync(new Uri(silo.BaseAddress, "metrics"), Ct);
        var listed = (await ops.GetFromJsonAsync<JsonElement>(new Uri(silo.BaseAddress, "api/sessions"), Ct)).GetProperty("sessions").GetArrayLength();
        output.WriteLine($"load: {load}; refusal: {refused.Text()}");

        Assert.True(refused.IsError, refused.Text());
        Assert.Matches(@"^concurrency_limit: this silo's CPU is at \d+(\.\d)? % of what it may use, above Anchor:Sessions:MaxCpuPercent \(1 %\), so it opens no new session; retry after 10 s \(new sessions go to the least loaded silo\)\.$", refused.Text());
        Assert.Contains("anchor_sessions_load_refused_total{otel_scope_name=\"Anchor.Orleans\",resource=\"cpu\"} 1", metrics, StringComparison.Ordinal);
        Assert.Equal(0, listed);
    }

    [Fact]
    public async Task MovedSession_IsRestoredOnASiloOverItsThreshold_NeverRefusedForLoad()
    {
        var clusterId = $"load-{Guid.NewGuid():N}";
        var settings = BrowserAppFixture.BaseSettings();
        settings["Anchor:Cluster:ServiceId"] = clusterId;
        foreach (var (key, value) in AnchorAppHost.RedisSettings(redis, clusterId))
        {
            settings[key] = value;
        }

        var holder = SiloProcess.Start(settings, "Production");
        await using var hot = SiloProcess.Start(new Dictionary<string, string?>(settings) { ["Anchor:Sessions:MaxCpuPercent"] = "1" }, "Production");
        try
        {
            using var ops = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            ops.DefaultRequestHeaders.Authorization = new("Bearer", TestKeys.Operator);
            foreach (var silo in new[] { holder, hot })
            {
                await silo.ReadyInClusterAsync(ops, 2, TimeSpan.FromSeconds(120), Ct);
            }

            await Poll.UntilAsync(() => GaugesAsync(ops, hot), g => g.Contains("anchor_silo_cpu_ratio", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the hot silo to publish its load");
            await using var onHolder = await McpTestClient.ConnectAsync(holder.BaseAddress, TestKeys.Agent);
            var session = SessionId(await onHolder.CallAsync("browser_session_create"));
            await using var onHot = await McpTestClient.ConnectAsync(hot.BaseAddress, TestKeys.Agent);

            holder.Terminate(); // Drains: the session parks with its checkpoint; only the hot silo is left.
            await holder.Process.WaitForExitAsync(Ct);
            var restored = await onHot.CallAsync("browser_snapshot", new { session_id = session });
            var refusedNew = await onHot.CallAsync("browser_session_create"); // The same silo, over for a new session.

            Assert.True(restored.IsError != true, restored.Text());
            Assert.StartsWith("concurrency_limit: this silo's CPU is at", refusedNew.Text(), StringComparison.Ordinal);
            Assert.StartsWith("### Session restored\nThis session moved to another silo (its silo was shut down)", restored.Text(), StringComparison.Ordinal);
            var closed = await onHot.CallAsync("browser_session_close", new { session_id = session });
            Assert.True(closed.IsError != true, closed.Text());
        }
        finally
        {
            await holder.DisposeAsync();
        }
    }

    /// <summary>The two load gauges from a silo's /metrics.</summary>
    private static async Task<string> GaugesAsync(HttpClient ops, SiloProcess silo)
    {
        var text = await ops.GetStringAsync(new Uri(silo.BaseAddress, "metrics"), Ct);
        return string.Join("; ", text.Split('\n').Where(l => l.StartsWith("anchor_silo_", StringComparison.Ordinal)).Select(l => l.Trim()));
    }

    private static string SessionId(CallToolResult created) => created.Json().GetProperty("session_id").GetString()!;
}
