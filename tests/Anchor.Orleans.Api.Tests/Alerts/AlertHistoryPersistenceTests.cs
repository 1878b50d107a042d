using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Testing;
using static Anchor.Orleans.Api.Tests.Alerts.AlertTesting;

namespace Anchor.Orleans.Api.Tests.Alerts;

/// <summary>Redis mode: the history and the open keys live in grain storage, so they survive the cluster restarting.</summary>
public sealed class AlertHistoryPersistenceTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task HistoryAndOpenKeys_SurviveARestart_AndTheResolveGoesWhereTheAlertWent()
    {
        await using var recorder = await WebhookRecorder.StartAsync();
        recorder.Respond("/pagerduty", 202);
        var settings = AlertsAppFixture.Settings(recorder);
        foreach (var (key, value) in AnchorAppHost.RedisSettings(redis, $"alerts-{Guid.NewGuid():N}"))
        {
            settings[key] = value;
        }

        const string alertKey = "emergency:shutdown";
        var at = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
        long id;
        await using (var first = await AnchorAppHost.StartAsync(settings, "Production"))
        {
            await first.Sink().RaiseAsync(new Alert(AlertSeverity.Critical, alertKey, "Emergency shutdown tripped", "Spend limit reached.", at), Ct);
            id = (long)(await first.SettledAsync(alertKey, "critical"))["id"]!;
        }

        await using var second = await AnchorAppHost.StartAsync(settings, "Production");
        var history = await second.AlertsAsync();
        var kept = Assert.Single(history);
        Assert.Equal(id, (long)kept!["id"]!);
        Assert.Equal(("delivered", 1, 202, (string?)null), Delivery(kept.AsObject(), AlertChannels.PagerDuty));

        await second.Sink().RaiseAsync(new Alert(AlertSeverity.Resolved, alertKey, "Emergency shutdown reset", "Reset by an operator.", at.AddMinutes(5)), Ct);
        var resolved = await second.SettledAsync(alertKey, "resolved");
        Assert.Equal(id + 1, (long)resolved["id"]!);
        Assert.Equal([AlertChannels.Discord, AlertChannels.PagerDuty, AlertChannels.Slack, AlertChannels.Webhook], Channels(resolved));
        Assert.Single(recorder.For("/pagerduty"), r => r.RawBody.Contains("\"resolve\"", StringComparison.Ordinal));
    }
}
