using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Cluster.Tests;

/// <summary>
/// The fair queue across three silo processes on real Redis behind nginx (round-robin, no affinity), with
/// <c>MaxConcurrent</c> = 2 and three clients wanting six sessions: grants in turn as sessions close, the cap sampled
/// through the operator API throughout, and a waiter whose silo is killed holding no slot. Figures printed.
/// </summary>
public sealed class SessionQueueClusterTests(RedisServer redis, ITestOutputHelper output) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const int QueueSeconds = 90;
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(30);
    private readonly FixtureSite _site = new();

    public ValueTask InitializeAsync() => _site.InitializeAsync();

    public ValueTask DisposeAsync() => _site.DisposeAsync();

    // Not yet green: in three runs on this branch a session just opened through the balancer was deactivated moments
    // later by a second activation of the same session grain on the same silo (Orleans "Failed to forward … after
    // DeactivateOnIdle"), so it ended as lost and no silo listed it. Left for the lead: see the branch report.
    [Fact]
    public async Task Queue_GrantsInTurnAcrossSilos_CapHeld_AndAWaiterOnAKilledSiloHoldsNoSlot()
    {
        await using var cluster = await BalancedCluster.StartAsync(
            redis, 3, ("Anchor:Sessions:MaxConcurrent", "2"), ("Anchor:Sessions:MaxPerClient", "2"), ("Anchor:Sessions:QueueTimeoutSeconds", $"{QueueSeconds}"));
        var survivor = cluster.Silos[0];
        using var ops = new HttpClient { BaseAddress = survivor.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        ops.DefaultRequestHeaders.Authorization = new("Bearer", TestKeys.Operator);
        using var stop = new CancellationTokenSource();
        var samples = new ConcurrentQueue<int>();
        var sampleFailures = new ConcurrentQueue<string>();
        var sampler = SampleAsync();
        async Task SampleAsync()
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            while (!stop.IsCancellationRequested && await timer.WaitForNextTickAsync(Ct))
            {
                try
                {
                    samples.Enqueue((await ops.GetFromJsonAsync<JsonElement>("api/sessions", Ct)).GetProperty("count").GetInt32());
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    sampleFailures.Enqueue(ex.GetType().Name);
                }
            }
        }

        // Through the balancer: A holds both slots; B and C queue two each (C's second is its default session).
        await using var a = await McpTestClient.ConnectAsync(cluster.BaseAddress, TestKeys.Agent);
        await using var b = await McpTestClient.ConnectAsync(cluster.BaseAddress, TestKeys.OtherAgent);
        await using var c = await McpTestClient.ConnectAsync(cluster.BaseAddress, TestKeys.Operator);
        var a1 = SessionId(await a.CallAsync("browser_session_create"));
        var a2 = SessionId(await a.CallAsync("browser_session_create"));
        // Every silo sees the same registry (right after start-up the grain directory may still be settling).
        var seen = "";
        try
        {
            await Poll.UntilAsync(
                async () =>
                {
                    var lists = await Task.WhenAll(cluster.Silos.Select(async silo => (await ops.GetFromJsonAsync<JsonElement>(new Uri(silo.BaseAddress, "api/sessions"), Ct)).GetProperty("sessions").GetRawText()));
                    seen = string.Join(" || ", lists);
                    return lists.Select(l => JsonDocument.Parse(l).RootElement.GetArrayLength()).ToArray();
                },
                counts => counts.All(n => n == 2),
                TimeSpan.FromSeconds(30),
                "every silo to count A's two sessions");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; a1 {a1}, a2 {a2}; seen: {seen}; silo logs: {string.Join("\n", cluster.Silos.SelectMany(s => s.Output.Split('\n')).Where(l => l.Contains("Session", StringComparison.Ordinal) || l.Contains("egistry", StringComparison.Ordinal) || l.Contains("fail", StringComparison.OrdinalIgnoreCase)).Take(40))}", ex);
        }
        var b1 = QueuedCall.Start(b, "browser_session_create", cancellationToken: Ct);
        try
        {
            await b1.QueuedAsync("position 1 of 1", Step);
        }
        catch (InvalidOperationException)
        {
            foreach (var line in cluster.Silos.SelectMany(s => s.Output.Split('\n')).Where(l => l.Contains("Session", StringComparison.Ordinal) || l.Contains("slot", StringComparison.Ordinal)))
            {
                output.WriteLine(line);
            }

            throw;
        }

        var b2 = QueuedCall.Start(b, "browser_session_create", cancellationToken: Ct);
        await b2.QueuedAsync("position 2 of 2", Step);
        var c1 = QueuedCall.Start(c, "browser_session_create", cancellationToken: Ct);
        await c1.QueuedAsync("position 2 of 3", Step);
        var c2 = QueuedCall.Start(c, "browser_navigate", new { url = _site.Url("/a") }, Ct);
        await c2.QueuedAsync("position 4 of 4", Step);

        var waiting = new List<QueuedCall> { b1, c1, b2, c2 };
        var closers = new (McpClient Client, Func<string> Session)[] { (a, () => a1), (a, () => a2), (b, () => SessionId(b1.Result!)), (c, () => SessionId(c1.Result!)) };
        var handOver = new List<double>();
        foreach (var (client, session) in closers)
        {
            Assert.All(waiting, w => Assert.False(w.Call.IsCompleted, $"{w.Tool} answered before a slot freed"));
            var clock = Stopwatch.StartNew();
            var closed = await client.CallAsync("browser_session_close", new { session_id = session() });
            Assert.True(closed.IsError != true, closed.Text());
            var result = await waiting[0].Call.WaitAsync(Step, Ct);
            handOver.Add(clock.Elapsed.TotalMilliseconds);
            Assert.True(result.IsError != true, result.Text());
            waiting.RemoveAt(0);
        }

        Assert.Contains("/a", c2.Result!.Text(), StringComparison.Ordinal);
        await b.CallAsync("browser_session_close", new { session_id = SessionId(b2.Result!) });
        await c.CallAsync("browser_close");

        // Directly on silos: A fills both slots on the survivor; B waits on silo 2, C on silo 1. Silo 2 is killed.
        await using var aDirect = await McpTestClient.ConnectAsync(survivor.BaseAddress, TestKeys.Agent);
        var b3Client = await McpTestClient.ConnectAsync(cluster.Silos[2].BaseAddress, TestKeys.OtherAgent);
        await using var cDirect = await McpTestClient.ConnectAsync(cluster.Silos[1].BaseAddress, TestKeys.Operator);
        var a3 = SessionId(await aDirect.CallAsync("browser_session_create"));
        var a4 = SessionId(await aDirect.CallAsync("browser_session_create"));
        var doomed = QueuedCall.Start(b3Client, "browser_session_create", cancellationToken: Ct);
        await doomed.QueuedAsync("position 1 of 1", Step);
        var next = QueuedCall.Start(cDirect, "browser_session_create", cancellationToken: Ct);
        await next.QueuedAsync("position 2 of 2", Step);

        cluster.Silos[2].Process.Kill(entireProcessTree: true);
        await cluster.Silos[2].Process.WaitForExitAsync(Ct);
        var afterKill = Stopwatch.StartNew();
        var freed = await aDirect.CallAsync("browser_session_close", new { session_id = a3 });
        Assert.True(freed.IsError != true, freed.Text());
        var granted = await next.Call.WaitAsync(TimeSpan.FromSeconds(QueueSeconds), Ct);
        var grantedAfter = afterKill.Elapsed;
        Assert.True(granted.IsError != true, granted.Text());
        await Poll.UntilAsync(
            async () => (await ops.GetFromJsonAsync<JsonElement>("api/sessions", Ct)).GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("session_id").GetString()).Order().ToList(),
            ids => ids.SequenceEqual(new[] { a4, SessionId(granted) }.Order()),
            Step,
            "the open sessions to be a4 and C's granted one");

        stop.Cancel();
        await sampler;
        output.WriteLine($"hand-over from close to the next waiter's answer (ms): {string.Join(", ", handOver.Select(h => h.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}");
        output.WriteLine($"after killing the first waiter's silo, the second waiter was granted in {grantedAfter.TotalSeconds:F1} s; {samples.Count} samples of the open-session count, highest {samples.Max()}");
        var histogram = string.Join(", ", samples.GroupBy(n => n).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
        Assert.True(samples.Count > 10, $"samples {histogram}; failures {string.Join(", ", sampleFailures)}");
        Assert.True(samples.Max() == 2, $"samples {histogram}; failures {sampleFailures.Count}: {string.Join(", ", sampleFailures.Distinct())}");
        await aDirect.CallAsync("browser_session_close", new { session_id = a4 });
        await cDirect.CallAsync("browser_session_close", new { session_id = SessionId(granted) });
    }

    private static string SessionId(CallToolResult created) =>
        created.IsError == true ? throw new InvalidOperationException(created.Text()) : created.Json().GetProperty("session_id").GetString()!;
}
