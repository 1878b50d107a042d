using System.Diagnostics.Metrics;
using Anchor.Orleans.Grains.Telemetry;
using Anchor.Orleans.Testing;
using static Anchor.Orleans.Bench.SideBySide.Calls;
using static Anchor.Orleans.Bench.Shared.Stats;

namespace Anchor.Orleans.Bench.SideBySide;

/// <summary>
/// Figure 7: what session checkpoints cost (issue 13). One silo, one session, a signed-in task repeated: navigate to
/// the sign-in page, type the user and the password, click Sign in, open the orders page — five page-changing actions a
/// round, each followed by a checkpoint in the background. Run twice on Redis grain storage (a real redis-server, as in
/// a cluster): checkpoints on, and off (<c>Sessions:Checkpoints=false</c>, the baseline). Reported: each checkpoint's duration (reading the browser's storage state, encrypting it,
/// writing it) and size, from the silo's own <c>anchor.session.checkpoint.*</c> instruments, and the actions' latency
/// as the agent sees it — the checkpoint runs after the answer, so the action column is what it costs an agent.
/// </summary>
public static class Checkpoints
{
    public static async Task<string> RunAsync(int rounds)
    {
        await using var redis = new RedisServer();
        await redis.InitializeAsync();
        var rows = new List<string>();
        foreach (var (name, extra) in new (string, IEnumerable<KeyValuePair<string, string?>>)[]
        {
            ("on", AnchorAppHost.RedisSettings(redis, $"bench-{Guid.NewGuid():N}")),
            ("off (`Sessions:Checkpoints=false`)", new Dictionary<string, string?>(AnchorAppHost.RedisSettings(redis, $"bench-{Guid.NewGuid():N}")) { ["Anchor:Sessions:Checkpoints"] = "false" }),
        })
        {
            var (actions, durations, sizes) = await MeasureAsync(rounds, extra);
            rows.Add(durations.Count == 0
                ? $"| {name} | {actions.Count} | 0 | – | – | – | {F(Median(actions))} ms | {F(P95(actions))} ms |"
                : $"| {name} | {actions.Count} | {durations.Count} | {F(Median(durations))} ms | {F(P95(durations))} ms | {F(Median(sizes) / 1024, 2)} KiB | {F(Median(actions))} ms | {F(P95(actions))} ms |");
        }

        return $"""
            ## 7. Session checkpoints

            One silo, one session, {rounds} rounds of a signed-in task (navigate to a sign-in form, type user and password, click Sign in, open the orders page: five page-changing actions a round). Redis grain storage. With checkpoints on, after each the session writes its checkpoint in the background: the browser's storage state (read through Playwright), encrypted with Data Protection, with the tabs and the session's figures. With them off (`Sessions:Checkpoints=false`) nothing is written: that row is the baseline for the action columns. Checkpoint figures are the silo's `anchor.session.checkpoint.duration` and `.size` instruments; action latency is per tool call as the agent sees it.

            | checkpoints | actions | checkpoints written | checkpoint p50 | checkpoint p95 | storage state p50 | action p50 | action p95 |
            |---|---|---|---|---|---|---|---|
            {string.Join("\n", rows)}

            At most one checkpoint starts per second (`BrowserSessionGrain.CheckpointSpacing`): back-to-back actions cost one write after the last of a burst, and requests that arrive meanwhile are folded into it. Checkpoints written include the warm-up round's and the one after the session opened.
            """;
    }

    private static async Task<(List<double> Actions, List<double> Durations, List<double> Sizes)> MeasureAsync(int rounds, IEnumerable<KeyValuePair<string, string?>> extra)
    {
        List<double> durations = [], sizes = [], actions = [];
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == AnchorMetrics.MeterName && instrument.Name.StartsWith("anchor.session.checkpoint.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            lock (durations)
            {
                if (instrument.Name == "anchor.session.checkpoint.duration")
                {
                    durations.Add(value * 1000);
                }
                else
                {
                    sizes.Add(value);
                }
            }
        });
        listener.Start();

        await using var silo = await BenchSilo.StartAsync(1, extra);
        await using var client = await silo.ConnectAsync();
        var session = await OpenSessionAsync(client);
        for (var round = 0; round < rounds + 1; round++)
        {
            var timed = new[]
            {
                await TimedAsync(client, "browser_navigate", new { session_id = session, url = silo.Site.Url("/login") }),
                await TimedAsync(client, "browser_type", new { session_id = session, target = "input[name=user]", text = "ada" }),
                await TimedAsync(client, "browser_type", new { session_id = session, target = "input[name=password]", text = "lovelace" }),
                await TimedAsync(client, "browser_click", new { session_id = session, target = "text=Sign in" }),
                await TimedAsync(client, "browser_navigate", new { session_id = session, url = silo.Site.Url("/account/orders") }),
            };
            if (round > 0)
            {
                actions.AddRange(timed.Select(t => t.Ms)); // Round 0 warms up.
            }
        }

        await TimedAsync(client, "browser_session_close", new { session_id = session });
        lock (durations)
        {
            return (actions, [.. durations], [.. sizes]);
        }
    }
}
