using System.Text.RegularExpressions;
using Anchor.Orleans.Testing;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Api.Tests.Mcp;

/// <summary>One browser slot in the cluster, so a second session waits in the fair queue.</summary>
public sealed class OneSlotFixture : BrowserAppFixture
{
    protected override Dictionary<string, string?> Settings() => BaseSettings(("Anchor:Sessions:MaxConcurrent", "1"), ("Anchor:Sessions:MaxPerClient", "1"));
}

/// <summary>
/// Clients that send a <c>progressToken</c> hear of long calls: a queued create's place and wait, each step of a task
/// as it finishes, and a long wait at least every 5 s.
/// </summary>
public sealed partial class ProgressTests(OneSlotFixture fixture) : IClassFixture<OneSlotFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task QueuedCreate_ReportsItsPositionAndWait()
    {
        var (holder, held) = await fixture.OpenSessionAsync(TestKeys.Agent);
        var other = await fixture.ConnectAsync(TestKeys.OtherAgent);

        var queued = QueuedCall.Start(other, "browser_session_create", cancellationToken: Ct);
        await queued.QueuedAsync("position 1 of 1", Step);
        await holder.CallAsync("browser_session_close", new { session_id = held });
        var created = await queued.Call.WaitAsync(Step, Ct);

        Assert.True(created.IsError != true, created.Text());
        Assert.Matches(QueuedMessage(), queued.Progress[0]);
        await other.CallAsync("browser_session_close", new { session_id = created.Json().GetProperty("session_id").GetString() });
    }

    [Fact]
    public async Task RunTask_OfFiveSteps_ReportsEachStepAsItFinishes()
    {
        var (client, session) = await fixture.OpenSessionAsync(TestKeys.Agent);
        try
        {
            var task = QueuedCall.Start(client, "browser_run_task", new
            {
                url = fixture.Site.Url("/a"),
                steps = new object[]
                {
                    new { action = "click", target = "text=to B" },
                    new { action = "wait", text = "This is B" },
                    new { action = "navigate", url = fixture.Site.Url("/form") },
                    new { action = "type", target = "#name", text = "Ada" },
                    new { action = "select", target = "#color", values = new[] { "blue" } },
                },
                session_id = session,
            }, Ct);
            var result = await task.Call.WaitAsync(Step, Ct);

            Assert.True(result.IsError != true, result.Text());
            // The client handles a notification and the answer concurrently: the last step's may be read just after it.
            await Poll.UntilAsync(() => task.Progress.Count >= 6, TimeSpan.FromSeconds(5), $"every step's progress (got: {string.Join(" | ", task.Progress)})");
            Assert.Equal(
                ["step 1 of 6 done: navigate", "step 2 of 6 done: click", "step 3 of 6 done: wait", "step 4 of 6 done: navigate", "step 5 of 6 done: type", "step 6 of 6 done: select"],
                task.Progress.Select(m => StepTime().Replace(m, "")));
        }
        finally
        {
            await client.CallAsync("browser_session_close", new { session_id = session });
        }
    }

    [Fact]
    public async Task WaitOfTwentySeconds_ReportsAtLeastEveryFiveSeconds()
    {
        var (client, session) = await fixture.OpenSessionAsync(TestKeys.Agent);
        try
        {
            var wait = QueuedCall.Start(client, "browser_wait_for", new { time = 20, session_id = session }, Ct);
            var result = await wait.Call.WaitAsync(TimeSpan.FromSeconds(20) + Step, Ct);

            Assert.True(result.IsError != true, result.Text());
            await Poll.UntilAsync(() => wait.Progress.Count >= 3, TimeSpan.FromSeconds(5), "three heartbeats");
            // A tick at 20 s may come just before the answer.
            Assert.Equal(["browser_wait_for: running for 5 s", "browser_wait_for: running for 10 s", "browser_wait_for: running for 15 s"], wait.Progress.Take(3));
            Assert.InRange(wait.Progress.Count, 3, 4);
        }
        finally
        {
            await client.CallAsync("browser_session_close", new { session_id = session });
        }
    }

    [GeneratedRegex(@"^queued for a browser session slot: position 1 of 1, waited [0-9]+ s, waiting until \S+ at the latest$")]
    private static partial Regex QueuedMessage();

    [GeneratedRegex(@" \([0-9]+ ms\)$")]
    private static partial Regex StepTime();
}
