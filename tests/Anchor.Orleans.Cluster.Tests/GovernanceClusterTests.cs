using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Admission;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Tools;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Cluster.Tests;

/// <summary>Governance on a real two-silo cluster whose membership and grain state live in a real redis-server.</summary>
public sealed class GovernanceClusterTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private readonly List<AnchorAppHost> _hosts = [];

    public async ValueTask InitializeAsync() => await redis.FlushAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }
    }

    private Dictionary<string, string?> Settings(string clusterId, decimal dailyLimit = 100m)
    {
        var settings = TestKeys.Settings();
        foreach (var (key, value) in AnchorAppHost.RedisSettings(redis, clusterId))
        {
            settings[key] = value;
        }

        settings["Anchor:Cluster:ServiceId"] = clusterId;
        settings["Anchor:Budget:DailyLimitUsd"] = dailyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Anchor:Budget:MonthlyLimitUsd"] = "1000";
        settings["Anchor:Budget:EmergencyShutdownUsd"] = "1000";
        return settings;
    }

    private async Task<AnchorAppHost> StartAsync(Dictionary<string, string?> settings)
    {
        var host = await AnchorAppHost.StartAsync(settings, "Production");
        _hosts.Add(host);
        return host;
    }

    private async Task StopAsync(AnchorAppHost host)
    {
        _hosts.Remove(host);
        await host.DisposeAsync();
    }

    private static async Task<string?> RefusalAsync(AnchorAppHost host)
    {
        var policy = host.Services.GetRequiredService<ClientPolicies>().For(TestKeys.AgentClient) with { MaxRequests = 1_000_000 };
        try
        {
            await host.Services.GetRequiredService<IToolAdmission>().AdmitAsync(policy, new ToolFacts("browser_snapshot"));
            return null;
        }
        catch (AnchorException ex)
        {
            return ex.Message;
        }
    }

    [Fact]
    public async Task Reservations_From50ConcurrentClients_NeverPassTheLimit_AndTheLedgerEqualsWhatWasSettled()
    {
        var settings = Settings($"gov-{Guid.NewGuid():N}", dailyLimit: 5m);
        AnchorAppHost[] hosts = [await StartAsync(settings), await StartAsync(settings)];
        var openedAt = DateTimeOffset.UtcNow;
        var settled = 0m;
        var granted = 0;
        var refused = 0;
        var gate = new Lock();

        await Task.WhenAll(Enumerable.Range(0, 50).Select(async client =>
        {
            for (var i = 0; i < 10; i++)
            {
                var budget = hosts[(client + i) % 2].Services.GetRequiredService<ISessionBudget>();
                var session = $"c{client}-s{i}";
                try
                {
                    await budget.ReserveAsync(session, $"client-{client}", openedAt, 0.25m, Ct);
                }
                catch (AnchorException ex) when (ex.Code == ErrorCodes.BudgetExceeded)
                {
                    Interlocked.Increment(ref refused);
                    continue;
                }

                var actual = 0.05m * ((client + i) % 6);
                await budget.SettleAsync(session, $"client-{client}", openedAt, actual, Ct);
                lock (gate)
                {
                    settled += Math.Min(actual, 0.25m);
                    granted++;
                }
            }
        }));

        var grains = hosts[0].Services.GetRequiredService<IGrainFactory>();
        var day = await grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Day(openedAt)).GetTotalsAsync(Ct);
        var month = await grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Month(openedAt)).GetTotalsAsync(Ct);
        Assert.True(refused > 0, "the limit was never reached");
        Assert.Equal(500, granted + refused);
        Assert.True(day.SpentUsd <= 5m, $"spent {day.SpentUsd} past the 5.00 limit");
        Assert.Equal(settled, day.SpentUsd);
        Assert.Equal(0m, day.ReservedUsd);
        Assert.Equal(granted, day.SessionsSettled);
        Assert.Equal(settled, month.SpentUsd);
        Assert.Equal(settled, day.Clients.Values.Sum(c => c.SpentUsd));
    }

    [Fact]
    public async Task Switch_RefusesWorkOnBothSilosWithinASecond_AndSurvivesAFullClusterRestart()
    {
        var settings = Settings($"gov-{Guid.NewGuid():N}");
        var first = await StartAsync(settings);
        var second = await StartAsync(settings);
        // Steady state: both silos in the membership and each view re-subscribed after the cluster formed (a push
        // subscription taken while a silo is joining can land on an activation the directory then drops).
        foreach (var host in new[] { first, second })
        {
            await Poll.UntilAsync(
                async () => (await host.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count,
                n => n == 2,
                TimeSpan.FromSeconds(60),
                "a two-silo cluster");
        }

        var formed = DateTimeOffset.UtcNow;
        foreach (var host in new[] { first, second })
        {
            var view = host.Services.GetRequiredService<Anchor.Orleans.Grains.EmergencyStop.EmergencyStopView>();
            await Poll.UntilAsync(() => view.HeardAt > formed, TimeSpan.FromSeconds(10), "the view to re-subscribe");
            Assert.Null(await RefusalAsync(host));
        }

        var openedAt = DateTimeOffset.UtcNow;
        var budget = second.Services.GetRequiredService<ISessionBudget>();
        await budget.ReserveAsync("kept", TestKeys.AgentClient, openedAt, 0.25m, Ct);
        await budget.SettleAsync("kept", TestKeys.AgentClient, openedAt, 0.125m, Ct);

        using var trip = await first.CreateClient(TestKeys.Operator).PostAsJsonAsync("/api/emergency-shutdown", new { reason = "chaos drill" }, Ct);
        Assert.Equal(HttpStatusCode.OK, trip.StatusCode);
        var tripped = await trip.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(tripped.GetProperty("tripped").GetBoolean());
        Assert.Equal(TestKeys.OperatorClient, tripped.GetProperty("tripped_by").GetString());

        foreach (var host in new[] { first, second })
        {
            var refusal = await Poll.UntilAsync(() => RefusalAsync(host), r => r is not null, TimeSpan.FromSeconds(1), "the silo to refuse work", TimeSpan.FromMilliseconds(10));
            Assert.StartsWith("emergency_shutdown: chaos drill (tripped by ops at ", refusal, StringComparison.Ordinal);
            // Readiness reports the switch (Degraded, with the reason) but keeps the silo in rotation, so agents
            // read the emergency_shutdown refusal rather than an ingress 503. (The reason is shown to operators only.)
            using var ready = await host.CreateClient(TestKeys.Operator).GetAsync("/health/ready", Ct);
            var body = await ready.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("Degraded", body.GetProperty("checks").GetProperty("emergency").GetProperty("status").GetString());
            Assert.StartsWith("emergency_shutdown: chaos drill", body.GetProperty("checks").GetProperty("emergency").GetProperty("description").GetString(), StringComparison.Ordinal);
        }

        await StopAsync(first);
        await StopAsync(second);
        var third = await StartAsync(settings);
        var fourth = await StartAsync(settings);

        foreach (var host in new[] { third, fourth })
        {
            // A new silo fails closed until it has heard from the switch, then refuses with the persisted reason.
            Assert.StartsWith("emergency_shutdown: ", await RefusalAsync(host), StringComparison.Ordinal);
            var refusal = await Poll.UntilAsync(() => RefusalAsync(host), r => r?.StartsWith("emergency_shutdown: chaos drill", StringComparison.Ordinal) == true, TimeSpan.FromSeconds(10), "the restarted silo to read the persisted switch");
            Assert.Contains("(tripped by ops at ", refusal, StringComparison.Ordinal);
        }

        var state = await third.CreateClient(TestKeys.Operator).GetFromJsonAsync<JsonElement>("/api/emergency-shutdown", Ct);
        Assert.True(state.GetProperty("tripped").GetBoolean());
        Assert.Equal("chaos drill", state.GetProperty("reason").GetString());
        var day = await fourth.Services.GetRequiredService<IGrainFactory>().GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Day(openedAt)).GetTotalsAsync(Ct);
        Assert.Equal((0.125m, 0m, 1L), (day.SpentUsd, day.ReservedUsd, day.SessionsSettled));

        using var reset = await fourth.CreateClient(TestKeys.Operator).DeleteAsync("/api/emergency-shutdown", Ct);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        foreach (var host in new[] { third, fourth })
        {
            await Poll.UntilAsync(() => RefusalAsync(host), r => r is null, TimeSpan.FromSeconds(5), "the silo to accept work again");
        }
    }

    [Fact]
    public async Task KillingOneSilo_LosesNoAcknowledgedSpend()
    {
        var settings = Settings($"gov-{Guid.NewGuid():N}");
        var survivor = await StartAsync(settings);
        var victim = await StartAsync(settings);
        await Poll.UntilAsync(
            async () => (await survivor.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count,
            n => n == 2,
            TimeSpan.FromSeconds(60),
            "a two-silo cluster");

        // Twenty periods, so that about half the ledgers are placed on the silo that dies.
        var periods = Enumerable.Range(1, 20).Select(d => $"day:2031-01-{d:00}").ToList();
        var grains = victim.Services.GetRequiredService<IGrainFactory>();
        var acknowledged = new Dictionary<string, decimal>();
        foreach (var (period, index) in periods.Select((p, i) => (p, i)))
        {
            var ledger = grains.GetGrain<IBudgetLedgerGrain>(period);
            Assert.True((await ledger.ReserveAsync("s-1", "a", 1m, 100m, Ct)).Granted);
            Assert.True((await ledger.ReserveAsync("s-2", "b", 2m, 100m, Ct)).Granted);
            Assert.Equal(0.01m * (index + 1), (await ledger.SettleAsync("s-1", 0.01m * (index + 1), Ct)).ChargedUsd);
            acknowledged[period] = 0.01m * (index + 1);
        }

        await StopAsync(victim);

        var after = survivor.Services.GetRequiredService<IGrainFactory>();
        foreach (var period in periods)
        {
            var totals = await after.GetGrain<IBudgetLedgerGrain>(period).GetTotalsAsync(Ct);
            Assert.Equal((acknowledged[period], 2m, 1L), (totals.SpentUsd, totals.ReservedUsd, totals.SessionsSettled));
        }
    }

    [Fact]
    public async Task ExportThenImportIntoAnEmptyCluster_RestoresLedgersAndTheSwitchExactly()
    {
        var settings = Settings($"gov-{Guid.NewGuid():N}");
        var source = await StartAsync(settings);
        var openedAt = DateTimeOffset.UtcNow;
        var budget = source.Services.GetRequiredService<ISessionBudget>();
        await budget.ReserveAsync("x-1", "a", openedAt, 0.25m, Ct);
        await budget.SettleAsync("x-1", "a", openedAt, 0.2m, Ct);
        await budget.ReserveAsync("x-2", "b", openedAt, 0.25m, Ct);
        var operatorClient = source.CreateClient(TestKeys.Operator);
        (await operatorClient.PostAsJsonAsync("/api/emergency-shutdown", new { reason = "backup drill" }, Ct)).EnsureSuccessStatusCode();
        var exported = await operatorClient.GetStringAsync("/api/governance/export", Ct);

        await StopAsync(source);
        await redis.FlushAsync();
        var target = await StartAsync(settings);
        var targetClient = target.CreateClient(TestKeys.Operator);
        Assert.Empty(JsonNode.Parse(await targetClient.GetStringAsync("/api/governance/export", Ct))!["ledgers"]!.AsArray());

        using var import = await targetClient.PostAsync("/api/governance/import", new StringContent(exported, System.Text.Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.NoContent, import.StatusCode);

        var restored = await targetClient.GetStringAsync("/api/governance/export", Ct);
        Assert.Equal(WithoutExportTime(exported), WithoutExportTime(restored));
        var ledgers = JsonNode.Parse(restored)!["ledgers"]!.AsArray();
        Assert.Equal([BudgetPeriods.Day(openedAt), BudgetPeriods.Month(openedAt)], ledgers.Select(l => l!["period"]!.GetValue<string>()).Order());
        Assert.StartsWith("emergency_shutdown: backup drill", await Poll.UntilAsync(() => RefusalAsync(target), r => r?.Contains("backup drill", StringComparison.Ordinal) == true, TimeSpan.FromSeconds(5), "the restored switch to refuse work"), StringComparison.Ordinal);
    }

    private static string WithoutExportTime(string json)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node.Remove("exported_at");
        return node.ToJsonString();
    }
}
