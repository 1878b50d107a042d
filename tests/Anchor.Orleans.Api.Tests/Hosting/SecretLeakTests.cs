using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http.Json;
using Anchor.Orleans.Grains.Telemetry;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.Hosting;

/// <summary>
/// A run with every kind of secret configured (API keys, metrics token, webhook URLs, a PagerDuty key, a short Redis
/// password after a spaced comma, a CDP endpoint token, a URL with user:password) that uses each and fails with each:
/// no secret in any log line, trace attribute, metric label or answer a client received.
/// </summary>
public sealed class SecretLeakTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task NoSecret_InLogsTracesMetricsOrAnswers_OfARunThatUsesAndFailsWithEveryKind()
    {
        var closed = FreePorts.Next().ToString(CultureInfo.InvariantCulture);
        string[] secrets =
        [
            TestKeys.Agent, TestKeys.OtherAgent, TestKeys.Operator, "metrics-token-5e5e5e5e", "slack-secret-path-1", "discord-secret-2",
            "hookpass9", "hook-secret-3", "pdkey4", "zqw7x", "cdptok9", "urlpass77",
        ];
        var settings = TestKeys.Settings();
        settings["Anchor:Metrics:Token"] = "metrics-token-5e5e5e5e";
        settings["Anchor:Alerts:Slack:WebhookUrl"] = $"http://127.0.0.1:{closed}/services/T0/B0/slack-secret-path-1";
        settings["Anchor:Alerts:Discord:WebhookUrl"] = $"http://127.0.0.1:{closed}/api/webhooks/1/discord-secret-2";
        settings["Anchor:Alerts:Webhook:Url"] = $"http://hookuser:hookpass9@127.0.0.1:{closed}/hook-secret-3";
        settings["Anchor:Alerts:PagerDuty:RoutingKey"] = "pdkey4";
        settings["Anchor:Alerts:PagerDuty:EventsUrl"] = $"http://127.0.0.1:{closed}/v2/enqueue";
        settings["Anchor:Alerts:Delivery:MaxRetries"] = "0";
        settings["Anchor:Redis:ConnectionString"] = $"127.0.0.1:{closed}, password=zqw7x";
        settings["Anchor:Browser:CdpEndpoint"] = $"ws://127.0.0.1:{closed}/devtools/browser?token=cdptok9";

        var traces = new ConcurrentQueue<string>();
        using var activities = new ActivityListener
        {
            // The sources the app exports.
            ShouldListenTo = s => s.Name == AnchorTracing.SourceName || s.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) || s.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => traces.Enqueue($"{a.DisplayName} {a.StatusDescription} {string.Join(" ", a.TagObjects.Select(t => $"{t.Key}={t.Value}"))} {string.Join(" ", a.Events.Select(e => e.Name + string.Join(" ", e.Tags.Select(t => t.Value))))}"),
        };
        ActivitySource.AddActivityListener(activities);
        var labels = new ConcurrentQueue<string>();
        using var meters = new MeterListener { InstrumentPublished = (instrument, listener) => listener.EnableMeasurementEvents(instrument) };
        meters.SetMeasurementEventCallback<long>((_, _, tags, _) => Record(labels, tags));
        meters.SetMeasurementEventCallback<int>((_, _, tags, _) => Record(labels, tags));
        meters.SetMeasurementEventCallback<double>((_, _, tags, _) => Record(labels, tags));
        meters.Start();

        var answers = new List<string>();
        await using (var host = await AnchorAppHost.StartAsync(settings))
        {
            var agent = host.CreateClient(TestKeys.Agent);
            var operatorClient = host.CreateClient(TestKeys.Operator);
            var scraper = host.CreateClient("metrics-token-5e5e5e5e");
            answers.Add(await ReadAsync(host.CreateClient("wrong-metrics-token-123").GetAsync("/metrics", Ct)));
            answers.Add(await ReadAsync(host.CreateClient("not-a-key-at-all-9999").GetAsync("/status", Ct)));
            answers.Add(await ReadAsync(operatorClient.GetAsync("/status", Ct)));
            answers.Add(await ReadAsync(operatorClient.GetAsync("/health", Ct)));

            await using (var mcp = await McpTestClient.ConnectAsync(host, TestKeys.Agent))
            {
                // A URL with credentials (refused: loopback), and the remote browser failing to connect (its token in the endpoint).
                answers.Add((await mcp.CallAsync("browser_navigate", new { url = $"http://urluser:urlpass77@127.0.0.1:{closed}/" })).Text());
                answers.Add((await mcp.CallAsync("browser_snapshot")).Text());
                answers.Add((await mcp.CallAsync("browser_extract", new { url = $"http://urluser:urlpass77@127.0.0.1:{closed}/", item_selector = "li", fields = new { a = "b" } })).Text());
                answers.Add((await mcp.CallAsync("budget_status")).Text());
            }

            // A critical alert to every channel, each delivery failing against a closed port (exceptions logged).
            answers.Add(await ReadAsync(operatorClient.PostAsJsonAsync("/api/emergency-shutdown", new { reason = "secret leak test" }, Ct)));
            var alerts = await Poll.UntilAsync(
                () => operatorClient.GetStringAsync("/api/alerts", Ct),
                text => text.Contains("failed", StringComparison.Ordinal) && !text.Contains("pending", StringComparison.Ordinal),
                TimeSpan.FromSeconds(60),
                "alert deliveries to fail");
            answers.Add(alerts);
            answers.Add(await ReadAsync(operatorClient.DeleteAsync("/api/emergency-shutdown", Ct)));
            answers.Add(await ReadAsync(scraper.GetAsync("/metrics", Ct)));
            answers.Add(await ReadAsync(agent.GetAsync("/api/budget", Ct)));

            var logs = host.Logs.AllText;
            // The failures were logged (the alert channels, the remote browser).
            Assert.Contains(host.Logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
            AssertNoSecret(secrets, "logs", [logs]);
        }

        meters.Dispose();
        AssertNoSecret(secrets, "trace attributes", traces);
        AssertNoSecret(secrets, "metric labels", labels);
        AssertNoSecret(secrets, "answers to clients", answers);
        Assert.True(answers.Any(a => a.StartsWith("url_blocked: http://[REDACTED]@127.0.0.1:", StringComparison.Ordinal)), string.Join("\n", answers));
        Assert.True(answers.Any(a => a.StartsWith("browser_error", StringComparison.Ordinal)), string.Join("\n", answers));
    }

    private static void Record(ConcurrentQueue<string> labels, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            labels.Enqueue($"{tag.Key}={tag.Value}");
        }
    }

    private static async Task<string> ReadAsync(Task<HttpResponseMessage> request)
    {
        using var response = await request;
        return $"{(int)response.StatusCode} {response.Headers} {response.Content.Headers} {await response.Content.ReadAsStringAsync(Ct)}";
    }

    private static void AssertNoSecret(string[] secrets, string where, IEnumerable<string> texts)
    {
        var all = string.Join("\n", texts);
        var leaked = secrets.Where(s => all.Contains(s, StringComparison.Ordinal)).ToList();
        Assert.True(leaked.Count == 0, $"{where} hold {string.Join(", ", leaked)}: {string.Join(" | ", texts.Where(t => leaked.Any(s => t.Contains(s, StringComparison.Ordinal))).Take(3))}");
    }
}
