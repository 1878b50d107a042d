using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Api.Tests.Sessions;

public sealed class QueueAppFixture : BrowserAppFixture
{
    public const int QueueSeconds = 20;

    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Sessions:MaxConcurrent", "2"),
        ("Anchor:Sessions:MaxPerClient", "2"),
        ("Anchor:Sessions:QueueTimeoutSeconds", QueueSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}

/// <summary>
/// The fair queue end to end (real app, real Chromium, in-process silo): <c>MaxConcurrent</c> = 2 and three clients
/// wanting six sessions between them.
/// </summary>
public sealed class SessionQueueTests(QueueAppFixture fixture) : IClassFixture<QueueAppFixture>
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Create_WaitsFairlyAndIsGrantedInTurnAsSessionsClose_CapNeverExceeded_TimedOutWaitRefusedWithRetryAfter()
    {
        var a = await fixture.ConnectAsync(TestKeys.Agent);
        var b = await fixture.ConnectAsync(TestKeys.OtherAgent);
        var c = await fixture.ConnectAsync(TestKeys.Operator);
        using var cap = new CapWatch(fixture.Host.Services.GetRequiredService<IGrainFactory>().GetGrain<ISessionRegistryGrain>(0));

        var a1 = SessionId(await a.CallAsync("browser_session_create"));
        var a2 = SessionId(await a.CallAsync("browser_session_create"));

        // B and C want two each; each asks once the one before is queued. C's second is its default session's first call.
        var b1 = Queue(b, "browser_session_create");
        await b1.QueuedAsync("position 1 of 1", Step);
        var b2 = Queue(b, "browser_session_create");
        await b2.QueuedAsync("position 2 of 2", Step);
        var c1 = Queue(c, "browser_session_create");
        await c1.QueuedAsync("position 2 of 3", Step);
        await b2.QueuedAsync("position 3 of 3", Step); // c1 went ahead of b2: one grant per client per round
        var c2 = Queue(c, "browser_navigate", new { url = fixture.Site.Url("/a") });
        await c2.QueuedAsync("position 4 of 4", Step);

        // As sessions close, slots go round-robin: b1, c1, b2, c2 — each only when a slot frees.
        var waiting = new List<QueuedCall> { b1, c1, b2, c2 };
        var closers = new (McpClient Client, Func<string> Session)[] { (a, () => a1), (a, () => a2), (b, () => SessionId(b1.Result!)), (c, () => SessionId(c1.Result!)) };
        foreach (var (client, session) in closers)
        {
            Assert.All(waiting, w => Assert.False(w.Call.IsCompleted, $"{w.Tool} answered before a slot freed"));
            var closed = await client.CallAsync("browser_session_close", new { session_id = session() });
            Assert.True(closed.IsError != true, closed.Text());
            var next = waiting[0];
            var result = await next.Call.WaitAsync(Step, TestContext.Current.CancellationToken);
            Assert.True(result.IsError != true, result.Text());
            waiting.RemoveAt(0);
        }

        Assert.Contains("/a", c2.Result!.Text(), StringComparison.Ordinal);

        // Full again (b2 and C's default session): a wait that outlasts the queue timeout is refused with retry-after.
        var late = Queue(a, "browser_session_create");
        await late.QueuedAsync("position 1 of 1", Step);
        var refused = await late.Call.WaitAsync(TimeSpan.FromSeconds(QueueAppFixture.QueueSeconds) + Step, TestContext.Current.CancellationToken);
        Assert.True(refused.IsError == true);
        var match = System.Text.RegularExpressions.Regex.Match(
            refused.Text(), $@"^concurrency_limit: no browser session slot came free in {QueueAppFixture.QueueSeconds} s \(2 of 2 open cluster-wide, 0 waiting\); retry after ([0-9]+) s\.$");
        Assert.True(match.Success, refused.Text());
        Assert.InRange(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 250, 300);

        Assert.Equal(2, cap.Max);
        await b.CallAsync("browser_session_close", new { session_id = SessionId(b2.Result!) });
        await c.CallAsync("browser_close");
    }

    private static string SessionId(CallToolResult created) =>
        created.IsError == true ? throw new InvalidOperationException(created.Text()) : created.Json().GetProperty("session_id").GetString()!;

    private static QueuedCall Queue(McpClient client, string tool, object? arguments = null) =>
        QueuedCall.Start(client, tool, arguments, TestContext.Current.CancellationToken);

    /// <summary>Samples the registry's open-session count throughout the test and keeps the highest.</summary>
    private sealed class CapWatch : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _sampling;
        private int _max;

        public CapWatch(ISessionRegistryGrain registry) => _sampling = SampleAsync(registry);

        public int Max => Volatile.Read(ref _max);

        private async Task SampleAsync(ISessionRegistryGrain registry)
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
            while (await timer.WaitForNextTickAsync(_stop.Token).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result, TaskScheduler.Default))
            {
                var active = (await registry.GetStatsAsync()).Active;
                if (active > _max)
                {
                    Volatile.Write(ref _max, active);
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _sampling.Wait(TimeSpan.FromSeconds(5));
            _stop.Dispose();
        }
    }
}
