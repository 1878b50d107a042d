using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Cluster.Tests;

/// <summary>
/// A silo process killed outright (SIGKILL, as a node failure would): the spend it acknowledged survives in Redis,
/// its session's slot comes back, the reservation is settled once, and (with Sessions:RestoreOnLoss off) the session
/// answers session_expired.
/// </summary>
public sealed class SiloCrashTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private readonly FixtureSite _site = new();

    public ValueTask InitializeAsync() => _site.InitializeAsync();

    public ValueTask DisposeAsync() => _site.DisposeAsync();

    [Fact]
    public async Task KilledSilo_LosesNoAcknowledgedSpend_AndItsSessionIsSettledAndFreed()
    {
        var clusterId = $"crash-{Guid.NewGuid():N}";
        // Restoring lost sessions is off here: this is the loss path (SessionContinuityTests covers the restore).
        var settings = BrowserAppFixture.BaseSettings(("Anchor:Sessions:CleanupIntervalSeconds", "2"), ("Anchor:Sessions:RestoreOnLoss", "false"), ("Anchor:Cluster:ServiceId", clusterId));
        foreach (var (key, value) in AnchorAppHost.RedisSettings(redis, clusterId))
        {
            settings[key] = value;
        }

        await using var victim = SiloProcess.Start(settings, "Production");
        await using var survivor = await AnchorAppHost.StartAsync(settings, "Production");
        var ops = survivor.CreateClient(TestKeys.Operator);
        await Poll.UntilAsync(
            async () => (await ops.GetFromJsonAsync<JsonElement>("/status", Ct)).GetProperty("silos").GetInt32() == 2
                && (await new HttpClient().GetAsync(new Uri(victim.BaseAddress, "health/ready"), Ct)).IsSuccessStatusCode,
            TimeSpan.FromSeconds(90),
            "the silo process to join the cluster");

        string session;
        await using (var agent = await McpTestClient.ConnectAsync(victim.BaseAddress, TestKeys.Agent))
        {
            var created = await agent.CallAsync("browser_session_create");
            Assert.True(created.IsError != true, created.Text());
            session = created.Json().GetProperty("session_id").GetString()!;
        }

        var before = await ops.GetFromJsonAsync<JsonElement>("/api/budget", Ct);
        Assert.Equal(0.25m, before.GetProperty("daily").GetProperty("reserved_usd").GetDecimal());

        victim.Process.Kill(entireProcessTree: true);
        await victim.Process.WaitForExitAsync(Ct);

        var registry = survivor.Services.GetRequiredService<IGrainFactory>().GetGrain<ISessionRegistryGrain>(0);
        await Poll.UntilAsync(async () => (await registry.ListAsync()).All(l => l.SessionId != session), TimeSpan.FromSeconds(90), "the dead silo's lease to be freed");
        var after = await ops.GetFromJsonAsync<JsonElement>("/api/budget", Ct);
        await using var agentOnSurvivor = await McpTestClient.ConnectAsync(survivor, TestKeys.Agent);
        var late = await agentOnSurvivor.CallAsync("browser_snapshot", new { session_id = session });

        // Lost with its silo, the session is charged what it had reserved: settled once, nothing left reserved.
        Assert.Equal(0m, after.GetProperty("daily").GetProperty("reserved_usd").GetDecimal());
        Assert.Equal(before.GetProperty("daily").GetProperty("spent_usd").GetDecimal() + 0.25m, after.GetProperty("daily").GetProperty("spent_usd").GetDecimal());
        Assert.Equal(1, after.GetProperty("daily").GetProperty("sessions_settled").GetInt64());
        Assert.StartsWith($"session_expired: session '{session}' ended at ", late.Text(), StringComparison.Ordinal);
        Assert.EndsWith("(lost); create a new session.", late.Text(), StringComparison.Ordinal);
    }
}
