using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Testing;
using static Anchor.Orleans.Api.Tests.Alerts.AlertTesting;

namespace Anchor.Orleans.Api.Tests.Alerts;

/// <summary>A channel that fails or never answers does not hold the others; it ends as failed after its retries.</summary>
public sealed class AlertChannelFailureTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task FailingAndHangingChannels_DoNotBlockTheOthers_AndShowFailedAfterRetries()
    {
        await using var recorder = await WebhookRecorder.StartAsync();
        recorder.Respond("/pagerduty", 202);
        recorder.Respond("/slack", 500);
        recorder.Respond("/discord", WebhookRecorder.Hang);
        var settings = AlertsAppFixture.Settings(recorder);
        await using var host = await AnchorAppHost.StartAsync(settings);
        using var metrics = new AlertMetricsListener(host);
        var at = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

        await host.Sink().RaiseAsync(new Alert(AlertSeverity.Critical, "emergency:shutdown", "Emergency shutdown tripped", "Spend limit reached.", at), Ct);
        await host.Sink().RaiseAsync(new Alert(AlertSeverity.Critical, "test:second", "Second alert", "Right behind the first.", at), Ct);

        // Both alerts reach PagerDuty and the webhook while Discord is still on its first alert's attempts.
        var webhook = await recorder.WaitForAsync("/webhook", _ => true, count: 2);
        await recorder.WaitForAsync("/pagerduty", _ => true, count: 2);
        var first = await host.SettledAsync("emergency:shutdown", "critical");
        var discordAttempts = recorder.For("/discord").Where(r => r.RawBody.Contains("emergency:shutdown", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, discordAttempts.Count);
        Assert.True(webhook[1].ReceivedAt < discordAttempts[2].ReceivedAt,
            $"the webhook got the second alert at {webhook[1].ReceivedAt:O}, after Discord's last attempt on the first at {discordAttempts[2].ReceivedAt:O}");

        Assert.Equal(("delivered", 1, 202, (string?)null), Delivery(first, AlertChannels.PagerDuty));
        Assert.Equal(("delivered", 1, 200, (string?)null), Delivery(first, AlertChannels.Webhook));
        Assert.Equal(("failed", 3, 500, "http_500"), Delivery(first, AlertChannels.Slack));
        Assert.Equal(("failed", 3, (int?)null, "timeout"), Delivery(first, AlertChannels.Discord));
        Assert.Equal(3, recorder.For("/slack").Count(r => r.RawBody.Contains("emergency:shutdown", StringComparison.Ordinal)));

        var second = await host.SettledAsync("test:second", "critical");
        Assert.Equal(("failed", 3, (int?)null, "timeout"), Delivery(second, AlertChannels.Discord));
        Assert.Equal(
            new Dictionary<string, long>
            {
                ["critical/discord/failed"] = 2, ["critical/pagerduty/delivered"] = 2, ["critical/slack/failed"] = 2, ["critical/webhook/delivered"] = 2,
            },
            metrics.Counts);

        // Retries, timeouts and failures are where a URL would leak into a log line (Polly logs each): none does.
        var logs = host.Logs.AllText;
        Assert.Contains("OnRetry", logs, StringComparison.Ordinal);
        Assert.Contains("OnTimeout", logs, StringComparison.Ordinal);
        AssertNoSecrets(logs, AlertsAppFixture.SecretsOf(settings));
    }

    [Fact]
    public async Task CircuitBreaker_OpensOnAFailingChannel_AndFailsFastWithoutCallingIt()
    {
        await using var recorder = await WebhookRecorder.StartAsync();
        recorder.Respond("/slack", 503);
        var settings = AlertsAppFixture.Settings(recorder);
        settings["Anchor:Alerts:Delivery:MaxRetries"] = "0";
        settings["Anchor:Alerts:Delivery:BreakerMinimumThroughput"] = "2";
        settings["Anchor:Alerts:Delivery:BreakerFailureRatio"] = "0.5";
        settings["Anchor:Alerts:Delivery:BreakerBreakSeconds"] = "600";
        await using var host = await AnchorAppHost.StartAsync(settings);
        var at = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

        var outcomes = new List<(string?, int, int?, string?)>();
        for (var i = 1; i <= 3; i++)
        {
            await host.Sink().RaiseAsync(new Alert(AlertSeverity.Warning, $"test:breaker:{i}", $"Breaker {i}", "Slack is down.", at), Ct);
            var alert = await host.SettledAsync($"test:breaker:{i}", "warning");
            outcomes.Add(Delivery(alert, AlertChannels.Slack));
            Assert.Equal(("delivered", 1, 200, (string?)null), Delivery(alert, AlertChannels.Discord));
        }

        Assert.Equal([("failed", 1, 503, "http_503"), ("failed", 1, 503, "http_503"), ("failed", 0, null, "circuit_open")], outcomes);
        Assert.Equal(2, recorder.For("/slack").Count);
        Assert.Equal(3, recorder.For("/discord").Count);
        AssertNoSecrets(host.Logs.AllText, AlertsAppFixture.SecretsOf(settings));
    }
}
