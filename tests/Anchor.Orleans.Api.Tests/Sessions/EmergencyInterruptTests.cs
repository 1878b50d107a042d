using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Testing;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Api.Tests.Sessions;

/// <summary>A silo whose tool calls may run 90 s, so a 60 s wait, an endless page load and a long task are all mid-action at a trip.</summary>
public sealed class LongActionsFixture : BrowserAppFixture
{
    protected override Dictionary<string, string?> Settings() => BaseSettings(("Anchor:Sessions:ActionTimeoutSeconds", "90"));
}

/// <summary>The emergency switch stops what runs: calls in flight end, sessions close, new calls are refused.</summary>
public sealed class EmergencyInterruptTests(LongActionsFixture fixture) : IClassFixture<LongActionsFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Trip_WhileThreeSessionsAreMidAction_RefusesCallsWithinOneSecond_AndClosesEverySessionWithinFive()
    {
        var agent = await fixture.ConnectAsync(TestKeys.Agent);
        var other = await fixture.ConnectAsync(TestKeys.OtherAgent);
        var sessions = new List<string>();
        foreach (var client in new[] { agent, agent, other })
        {
            var created = await client.CallAsync("browser_session_create");
            sessions.Add(created.Json().GetProperty("session_id").GetString()!);
        }

        await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = sessions[0] });
        var steps = Enumerable.Range(0, 50).Select(i => i % 2 == 0 ? (object)new { action = "navigate", url = fixture.Site.Url(i % 4 == 0 ? "/a" : "/b") } : new { action = "wait", time = 1 }).ToArray();
        var running = new (string What, Task<CallToolResult> Call)[]
        {
            ("60 s wait", agent.CallAsync("browser_wait_for", new { time = 60, session_id = sessions[0] })),
            ("endless script", agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/loop"), session_id = sessions[1] })),
            ("50-step task", other.CallAsync("browser_run_task", new { url = fixture.Site.Url("/a"), steps, session_id = sessions[2] })),
        };
        using var ops = fixture.Host.CreateClient(TestKeys.Operator);
        // Mid-action: every session is running the call it was given, and none has answered.
        string[] expected = ["wait_for", "navigate", "run_task"];
        await Poll.UntilAsync(
            async () => (await ops.GetFromJsonAsync<JsonElement>("/api/sessions", Ct)).GetProperty("sessions").EnumerateArray()
                .Count(s => s.GetProperty("running").GetString() == expected[sessions.IndexOf(s.GetProperty("session_id").GetString()!)]),
            n => n == 3,
            TimeSpan.FromSeconds(20),
            "all three sessions to be mid-action");
        Assert.All(running, r => Assert.False(r.Call.IsCompleted, $"{r.What} answered before the trip"));

        var watch = Stopwatch.StartNew();
        using var trip = await ops.PostAsJsonAsync("/api/emergency-shutdown", new { reason = "interrupt drill" }, Ct);
        var tripped = watch.Elapsed;
        var refused = await other.CallAsync("browser_snapshot", new { session_id = sessions[2] });
        var refusedAt = watch.Elapsed;
        var answers = new List<(string What, string Text, TimeSpan At)>();
        foreach (var (what, call) in running)
        {
            var result = await call;
            answers.Add((what, result.Text(), watch.Elapsed));
        }

        var closedAt = (await Poll.UntilAsync(
            async () => (Count: (await ops.GetFromJsonAsync<JsonElement>("/api/sessions", Ct)).GetProperty("count").GetInt32(), At: watch.Elapsed),
            s => s.Count == 0,
            TimeSpan.FromSeconds(30),
            "every session to close")).At;

        var report = $"trip answered {tripped.TotalMilliseconds:0} ms; new call refused at {refusedAt.TotalMilliseconds:0} ms; "
            + string.Join("; ", answers.Select(a => $"{a.What} ended at {a.At.TotalMilliseconds:0} ms")) + $"; last session closed at {closedAt.TotalMilliseconds:0} ms";
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        trip.EnsureSuccessStatusCode();
        Assert.StartsWith("emergency_shutdown", refused.Text(), StringComparison.Ordinal);
        // Refusal is measured from the trip's acknowledgement (the switch is on from then); closing, from the request.
        Assert.True(refusedAt - tripped < TimeSpan.FromSeconds(1), report);
        Assert.All(answers, a => Assert.StartsWith("emergency_shutdown", a.Text, StringComparison.Ordinal));
        Assert.All(answers, a => Assert.True(a.At < TimeSpan.FromSeconds(5), report));
        Assert.True(closedAt < TimeSpan.FromSeconds(5), report);
    }
}
