using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Anchor.Orleans.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using StackExchange.Redis;

namespace Anchor.Orleans.Cluster.Tests;

/// <summary>
/// Sessions outlive their silo: silo processes behind the nginx balancer, real Redis, real Chromium. A signed-in agent
/// keeps its session, its login and its place through a rolling update and through a silo killed outright; each
/// session is settled exactly once.
/// </summary>
public sealed class SessionContinuityTests(RedisServer redis, ITestOutputHelper output) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private readonly FixtureSite _site = new();

    public ValueTask InitializeAsync() => _site.InitializeAsync();

    public ValueTask DisposeAsync() => _site.DisposeAsync();

    [Fact]
    public async Task RollingUpdate_EverySiloReplaced_TheAgentStaysSignedIn_OnTheSameUrl_AndIsSettledOnce()
    {
        await using var cluster = await BalancedCluster.StartAsync(redis, 3, ("Anchor:Shutdown:DrainSeconds", "20"));
        using var ops = cluster.CreateClient(TestKeys.Operator);
        await using var agent = await McpTestClient.ConnectAsync(cluster.BaseAddress, TestKeys.Agent, protocolVersion: McpTestClient.InitializeRevision);
        var session = await SignedInSessionAsync(agent);

        var moves = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var old = cluster.Silos[i];
            old.Terminate();
            await old.Process.WaitForExitAsync(Ct);
            Assert.Equal(0, old.Process.ExitCode);
            cluster.Replace(i);
            await cluster.WaitForSilosAsync(3);

            // Mid-task: the next call succeeds on a new silo, on the page the agent was on.
            var next = await agent.CallAsync("browser_snapshot", new { session_id = session });
            Assert.True(next.IsError != true, next.Text());
            Assert.Contains($"- Page URL: {_site.Url("/account/orders")}", next.Text(), StringComparison.Ordinal);
            Assert.Contains("Orders of ada", next.Text(), StringComparison.Ordinal);
            if (next.Meta?["anchor/restored"] is { } restored)
            {
                Assert.StartsWith("### Session restored\nThis session moved to another silo (its silo was shut down)", next.Text(), StringComparison.Ordinal);
                moves.Add(restored["reason"]!.GetValue<string>());
            }
        }

        var account = await agent.CallAsync("browser_navigate", new { session_id = session, url = _site.Url("/account") });
        var closed = await agent.CallAsync("browser_session_close", new { session_id = session });
        var budget = await ops.GetFromJsonAsync<JsonElement>("api/budget", Ct);
        output.WriteLine($"rolling update: the session moved {moves.Count} time(s) while 3 silos were replaced");

        // Every original silo is gone, so the session moved at least once, each time from a drained silo.
        Assert.NotEmpty(moves);
        Assert.All(moves, reason => Assert.Equal("drained", reason));
        Assert.Contains("Signed in as ada", account.Text(), StringComparison.Ordinal);
        Assert.True(closed.IsError != true, closed.Text());
        Assert.Equal(1, budget.GetProperty("daily").GetProperty("sessions_settled").GetInt64());
        Assert.Equal(0m, budget.GetProperty("daily").GetProperty("reserved_usd").GetDecimal());
    }

    [Fact]
    public async Task KilledSilo_TheNextCallRestoresTheSessionElsewhere_FromItsLastCheckpoint()
    {
        await using var cluster = await BalancedCluster.StartAsync(redis, 2, ("Anchor:Sessions:CleanupIntervalSeconds", "2"));
        using var ops = cluster.CreateClient(TestKeys.Operator);
        var (holder, survivor) = (cluster.Silos[0], cluster.Silos[1]);
        string session;
        await using (var onHolder = await McpTestClient.ConnectAsync(holder.BaseAddress, TestKeys.Agent))
        {
            session = await SignedInSessionAsync(onHolder);
        }

        // Checkpoints are written in the background after each action: wait until one is of the last of the five actions
        // (the orders page), encrypted.
        await Poll.UntilAsync(() => CheckpointActionsAsync(session), actions => actions == 5, TimeSpan.FromSeconds(30), "the checkpoint of the orders page");
        var raw = await CheckpointAsync(session);
        // Playwright's storage state would read {"cookies":[{"name":"auth","value":"ada",...}]}, and a tab URL may carry a
        // token: stored encrypted, neither shows.
        Assert.DoesNotContain("\"auth\"", raw!, StringComparison.Ordinal);
        Assert.DoesNotContain("\"cookies\"", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("/account/orders", raw, StringComparison.Ordinal);
        Assert.DoesNotContain(FixtureSite.Host, raw, StringComparison.Ordinal);

        holder.Process.Kill(entireProcessTree: true);
        await holder.Process.WaitForExitAsync(Ct);
        var killed = Stopwatch.StartNew();
        await using var onSurvivor = await McpTestClient.ConnectAsync(survivor.BaseAddress, TestKeys.Agent);
        var attempts = 0;
        var first = await Poll.UntilAsync(
            async () =>
            {
                attempts++;
                return await onSurvivor.CallAsync("browser_snapshot", new { session_id = session });
            },
            r => r.IsError != true,
            TimeSpan.FromSeconds(90),
            "a good call after the kill",
            interval: TimeSpan.FromMilliseconds(250));
        var firstGood = killed.Elapsed;
        var orders = await onSurvivor.CallAsync("browser_navigate", new { session_id = session, url = _site.Url("/account/orders") });
        var closed = await onSurvivor.CallAsync("browser_session_close", new { session_id = session });
        var budget = await ops.GetFromJsonAsync<JsonElement>("api/budget", Ct);
        output.WriteLine($"kill -9: first good call {firstGood.TotalSeconds:F1} s after the kill ({attempts} attempt(s))");

        Assert.StartsWith("### Session restored\nThis session moved to another silo (its silo was lost)", first.Text(), StringComparison.Ordinal);
        Assert.Equal("lost", first.Meta!["anchor/restored"]!["reason"]!.GetValue<string>());
        Assert.Contains($"- Page URL: {_site.Url("/account/orders")}", first.Text(), StringComparison.Ordinal);
        Assert.Contains("Orders of ada", orders.Text(), StringComparison.Ordinal);
        Assert.True(closed.IsError != true, closed.Text());
        Assert.Equal(1, budget.GetProperty("daily").GetProperty("sessions_settled").GetInt64());
        Assert.Equal(0m, budget.GetProperty("daily").GetProperty("reserved_usd").GetDecimal());
        Assert.Null(await CheckpointAsync(session)); // Ended: its checkpoint, cookies included, is gone.
    }

    /// <summary>Opens a session, signs in on the cookie-auth page and goes on to the orders page.</summary>
    private async Task<string> SignedInSessionAsync(McpClient agent)
    {
        var created = await agent.CallAsync("browser_session_create");
        Assert.True(created.IsError != true, created.Text());
        var session = created.Json().GetProperty("session_id").GetString()!;
        await Succeeds(agent.CallAsync("browser_navigate", new { session_id = session, url = _site.Url("/login") }));
        await Succeeds(agent.CallAsync("browser_type", new { session_id = session, target = "input[name=user]", text = "ada" }));
        await Succeeds(agent.CallAsync("browser_type", new { session_id = session, target = "input[name=password]", text = "lovelace" }));
        var signedIn = await Succeeds(agent.CallAsync("browser_click", new { session_id = session, target = "text=Sign in" }));
        Assert.Contains("Signed in as ada", signedIn.Text(), StringComparison.Ordinal);
        var orders = await Succeeds(agent.CallAsync("browser_navigate", new { session_id = session, url = _site.Url("/account/orders") }));
        Assert.Contains("Orders of ada", orders.Text(), StringComparison.Ordinal);
        return session;
    }

    private static async Task<CallToolResult> Succeeds(Task<CallToolResult> call)
    {
        var result = await call;
        Assert.True(result.IsError != true, result.Text());
        return result;
    }

    /// <summary>How many actions the stored checkpoint of <paramref name="session"/> counts (Orleans' grain storage writes JSON), or null.</summary>
    private async Task<int?> CheckpointActionsAsync(string session) =>
        await CheckpointAsync(session) is { } json ? JsonDocument.Parse(json).RootElement.GetProperty("Actions").GetInt32() : null;

    /// <summary>The raw stored checkpoint of <paramref name="session"/> in Redis, or null.</summary>
    private async Task<string?> CheckpointAsync(string session) =>
        await CheckpointBytesAsync(session) is { } bytes ? Encoding.Latin1.GetString(bytes) : null;

    private async Task<byte[]?> CheckpointBytesAsync(string session)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        await using (connection)
        {
            var db = connection.GetDatabase();
            // Orleans' Redis grain storage keeps each grain's state in a hash at "<service id>/state/<grain id>/<state name>".
            foreach (var key in connection.GetServer(connection.GetEndPoints()[0]).Keys(pattern: $"*/state/browsersession/{session}/session-checkpoint"))
            {
                var data = await db.HashGetAsync(key, "data");
                return data.IsNullOrEmpty ? null : (byte[])data!;
            }
        }

        return null;
    }
}
