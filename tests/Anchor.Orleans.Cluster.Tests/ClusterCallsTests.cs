using System.Diagnostics;
using System.Text.Json;
using Anchor.Orleans.Testing;
using ModelContextProtocol.Client;

namespace Anchor.Orleans.Cluster.Tests;

/// <summary>
/// Two silos behind a round-robin balancer, so successive calls reach a session from either silo: a cancelled call
/// ends the action on the session's silo, and a task's steps are reported back to the silo that took the call.
/// </summary>
public sealed class ClusterCallsTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private readonly FixtureSite _site = new();

    public ValueTask InitializeAsync() => _site.InitializeAsync();

    public ValueTask DisposeAsync() => _site.DisposeAsync();

    [Fact]
    public async Task Cancellation_AndTaskProgress_CrossSilos()
    {
        await using var cluster = await BalancedCluster.StartAsync(redis, 2);
        await using var agent = await McpTestClient.ConnectAsync(cluster.BaseAddress, TestKeys.Agent);
        var session = (await agent.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString()!;
        Assert.True((await agent.CallAsync("browser_navigate", new { url = _site.Url("/b"), session_id = session })).IsError != true);

        // Twice each: one of the two calls reaches the session from the other silo.
        for (var i = 0; i < 2; i++)
        {
            var before = await InfoAsync(agent, session);
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var wait = agent.CallToolAsync("browser_wait_for", new Dictionary<string, object?> { ["time"] = 60, ["session_id"] = session }, cancellationToken: cancel.Token).AsTask();
            await Poll.UntilAsync(() => InfoAsync(agent, session), s => s.GetProperty("running").ValueKind == JsonValueKind.String, TimeSpan.FromSeconds(15), "the wait to run");
            var cancelled = Stopwatch.GetTimestamp();
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
            var after = await Poll.UntilAsync(() => InfoAsync(agent, session), s => s.GetProperty("running").ValueKind == JsonValueKind.Null, TimeSpan.FromSeconds(10), "the wait to end", TimeSpan.FromMilliseconds(10));
            var took = Stopwatch.GetElapsedTime(cancelled);

            Assert.True(took < TimeSpan.FromSeconds(1.5), $"the wait ended {took.TotalMilliseconds:0} ms after the cancel (a list call per probe included)");
            Assert.Equal(before.GetProperty("actions").GetInt32(), after.GetProperty("actions").GetInt32());

            var task = QueuedCall.Start(agent, "browser_run_task", new
            {
                url = _site.Url("/a"),
                steps = new object[] { new { action = "click", target = "text=to B" }, new { action = "wait", text = "This is B" } },
                session_id = session,
            }, Ct);
            var result = await task.Call.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.True(result.IsError != true, result.Text());
            // The client handles a notification and the answer concurrently: the last step's may be read just after it.
            await Poll.UntilAsync(() => task.Progress.Count >= 3, TimeSpan.FromSeconds(5), "every step's progress");
            Assert.Equal(["step 1 of 3 done: navigate", "step 2 of 3 done: click", "step 3 of 3 done: wait"], task.Progress.Select(m => m[..m.LastIndexOf(" (", StringComparison.Ordinal)]));
        }

        Assert.True((await agent.CallAsync("browser_session_close", new { session_id = session })).IsError != true);
    }

    private static async Task<JsonElement> InfoAsync(McpClient agent, string session) =>
        (await agent.CallAsync("browser_session_list")).Json().GetProperty("sessions").EnumerateArray().Single(s => s.GetProperty("session_id").GetString() == session);
}
