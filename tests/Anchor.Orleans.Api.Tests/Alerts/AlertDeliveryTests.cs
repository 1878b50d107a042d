using System.Net;
using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Alerts;
using Anchor.Orleans.Grains.Alerts.Rules;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Anchor.Orleans.Api.Tests.Alerts.AlertTesting;

namespace Anchor.Orleans.Api.Tests.Alerts;

/// <summary>
/// Alerts raised in the real app reach a local listener standing in for Slack, Discord, PagerDuty and the generic
/// webhook, with each payload's exact shape, routed by severity, deduplicated within the cooldown, listed in
/// <c>/api/alerts</c> with delivery per channel and counted in <c>anchor_alerts_total</c>.
/// </summary>
public sealed class AlertDeliveryTests(AlertsAppFixture fixture) : IClassFixture<AlertsAppFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private AnchorAppHost Host => fixture.Host;

    private WebhookRecorder Recorder => fixture.Recorder;

    [Fact]
    public async Task BudgetThreshold_Warning_ReachesChatChannelsAndWebhook_NotPagerDuty()
    {
        using var metrics = new AlertMetricsListener(Host);
        const string key = "budget:daily:2026-11-23:50";
        const string title = "Daily budget 50 % used";
        const string message = "Spend today is $50.00 of the $100.00 daily limit.";
        var at = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Warning, key, title, message, at,
            new Dictionary<string, string> { ["budget"] = "daily", ["utilization"] = "0.5" }), Ct);

        var alert = await Host.SettledAsync(key, "warning");
        var id = (long)alert["id"]!;
        var source = Host.Source();
        Assert.Equal([AlertChannels.Discord, AlertChannels.Slack, AlertChannels.Webhook], Channels(alert));
        Assert.Equal(("delivered", 1, 200, (string?)null), Delivery(alert, AlertChannels.Slack));
        Assert.Equal(("delivered", 1, 200, (string?)null), Delivery(alert, AlertChannels.Discord));
        Assert.Equal(("delivered", 1, 200, (string?)null), Delivery(alert, AlertChannels.Webhook));
        Assert.Equal(message, (string?)alert["message"]);
        Assert.Equal(0, (int)alert["suppressed"]!);
        Assert.Null(alert["resolved_at"]);

        var slack = Assert.Single(Recorder.For("/slack"), r => r.RawBody.Contains(key, StringComparison.Ordinal));
        Assert.Equal("POST", slack.Method);
        Assert.Equal($"/slack/services/T0ALERTS/B0ALERTS/{AlertsAppFixture.SlackToken}", slack.Path);
        Assert.Equal("application/json; charset=utf-8", slack.Headers["content-type"]);
        Assert.Equal(AlertsRegistration.UserAgent, slack.Headers["user-agent"]);
        AssertJson(ExpectedPayloads.Slack("WARNING", "#F2A900", title, message, key, source, "2026-11-23T10:00:00.000Z",
            ("budget", "daily"), ("utilization", "0.5")), slack.Body);

        var discord = Assert.Single(Recorder.For("/discord"), r => r.RawBody.Contains(key, StringComparison.Ordinal));
        Assert.Equal("application/json; charset=utf-8", discord.Headers["content-type"]);
        AssertJson(ExpectedPayloads.Discord("WARNING", 15902976, title, message, key, source, "2026-11-23T10:00:00.000Z",
            ("budget", "daily"), ("utilization", "0.5")), discord.Body);

        var webhook = Assert.Single(Recorder.For("/webhook"), r => r.RawBody.Contains(key, StringComparison.Ordinal));
        AssertJson(ExpectedPayloads.Webhook(id, "warning", key, title, message, "2026-11-23T10:00:00.000Z", source,
            ("budget", "daily"), ("utilization", "0.5")), webhook.Body);

        Assert.DoesNotContain(Recorder.For("/pagerduty"), r => r.RawBody.Contains(key, StringComparison.Ordinal));
        Assert.Equal(
            new Dictionary<string, long> { ["warning/discord/delivered"] = 1, ["warning/slack/delivered"] = 1, ["warning/webhook/delivered"] = 1 },
            metrics.Counts);
    }

    [Fact]
    public async Task CircuitOpening_Critical_PagesPagerDuty_AndClosingResolvesEverywhere()
    {
        const string key = "rule:circuit_open:browser";
        var rules = Host.Services.GetRequiredService<AlertRules>();
        var source = Host.Source();

        rules.RecordCircuit("browser", "Open");

        var alert = await Host.SettledAsync(key, "critical");
        var id = (long)alert["id"]!;
        var at = Iso(DateTimeOffset.Parse((string)alert["at"]!, System.Globalization.CultureInfo.InvariantCulture));
        const string title = "Circuit open: browser";
        const string message = "The browser circuit breaker is open: calls that need it are refused fast until it closes.";
        Assert.Equal([AlertChannels.Discord, AlertChannels.PagerDuty, AlertChannels.Slack, AlertChannels.Webhook], Channels(alert));
        Assert.Equal(("delivered", 1, 202, (string?)null), Delivery(alert, AlertChannels.PagerDuty));
        Assert.Equal(("delivered", 1, 200, (string?)null), Delivery(alert, AlertChannels.Slack));

        var trigger = Assert.Single(Recorder.For("/pagerduty"), r => r.RawBody.Contains(key, StringComparison.Ordinal));
        Assert.Equal("/pagerduty/v2/enqueue", trigger.Path);
        AssertJson(ExpectedPayloads.PagerDutyTrigger(AlertsAppFixture.RoutingKey, key, title, source, "critical", at, id, message,
            ("component", "browser"), ("state", "open")), trigger.Body);
        AssertJson(ExpectedPayloads.Slack("CRITICAL", "#D0021B", title, message, key, source, at, ("component", "browser"), ("state", "open")),
            Assert.Single(Recorder.For("/slack"), r => r.RawBody.Contains(key, StringComparison.Ordinal)).Body);
        AssertJson(ExpectedPayloads.Discord("CRITICAL", 13632027, title, message, key, source, at, ("component", "browser"), ("state", "open")),
            Assert.Single(Recorder.For("/discord"), r => r.RawBody.Contains(key, StringComparison.Ordinal)).Body);
        AssertJson(ExpectedPayloads.Webhook(id, "critical", key, title, message, at, source, ("component", "browser"), ("state", "open")),
            Assert.Single(Recorder.For("/webhook"), r => r.RawBody.Contains(key, StringComparison.Ordinal)).Body);

        rules.RecordCircuit("browser", "HalfOpen");
        rules.RecordCircuit("browser", "Closed");

        var resolved = await Host.SettledAsync(key, "resolved");
        Assert.Equal([AlertChannels.Discord, AlertChannels.PagerDuty, AlertChannels.Slack, AlertChannels.Webhook], Channels(resolved));
        Assert.Equal(("delivered", 1, 202, (string?)null), Delivery(resolved, AlertChannels.PagerDuty));
        var resolve = await Recorder.WaitForAsync("/pagerduty", r => r.RawBody.Contains("\"resolve\"", StringComparison.Ordinal) && r.RawBody.Contains(key, StringComparison.Ordinal));
        AssertJson(ExpectedPayloads.PagerDutyResolve(AlertsAppFixture.RoutingKey, key), Assert.Single(resolve).Body);
        var opened = (await Host.AlertsAsync()).OfType<JsonObject>().Single(a => (long)a["id"]! == id);
        Assert.NotNull(opened["resolved_at"]);
    }

    [Fact]
    public async Task EmergencyShutdown_CriticalThenResolved_ExactPayloadsOnEveryChannel()
    {
        const string key = "emergency:shutdown";
        var source = Host.Source();
        var trippedAt = new DateTimeOffset(2026, 11, 23, 12, 30, 15, 250, TimeSpan.Zero);
        var resetAt = new DateTimeOffset(2026, 11, 23, 12, 45, 0, TimeSpan.Zero);
        const string title = "Emergency shutdown tripped";
        const string message = "Daily spend reached $500.00; every silo refuses new work and sessions are closing.";

        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Critical, key, title, message, trippedAt,
            new Dictionary<string, string> { ["reason"] = "spend", ["by"] = "system" }), Ct);
        var critical = await Host.SettledAsync(key, "critical");
        var id = (long)critical["id"]!;

        Assert.Equal([AlertChannels.Discord, AlertChannels.PagerDuty, AlertChannels.Slack, AlertChannels.Webhook], Channels(critical));
        AssertJson(ExpectedPayloads.PagerDutyTrigger(AlertsAppFixture.RoutingKey, key, title, source, "critical", "2026-11-23T12:30:15.250Z", id, message,
            ("reason", "spend"), ("by", "system")), Assert.Single(Recorder.For("/pagerduty"), r => r.RawBody.Contains(key, StringComparison.Ordinal)).Body);
        AssertJson(ExpectedPayloads.Slack("CRITICAL", "#D0021B", title, message, key, source, "2026-11-23T12:30:15.250Z", ("reason", "spend"), ("by", "system")),
            Assert.Single(Recorder.For("/slack"), r => r.RawBody.Contains(key, StringComparison.Ordinal)).Body);
        AssertJson(ExpectedPayloads.Discord("CRITICAL", 13632027, title, message, key, source, "2026-11-23T12:30:15.250Z", ("reason", "spend"), ("by", "system")),
            Assert.Single(Recorder.For("/discord"), r => r.RawBody.Contains(key, StringComparison.Ordinal)).Body);
        AssertJson(ExpectedPayloads.Webhook(id, "critical", key, title, message, "2026-11-23T12:30:15.250Z", source, ("reason", "spend"), ("by", "system")),
            Assert.Single(Recorder.For("/webhook"), r => r.RawBody.Contains(key, StringComparison.Ordinal)).Body);

        const string resolvedTitle = "Emergency shutdown reset";
        const string resolvedMessage = "An operator reset the emergency switch; new work is admitted again.";
        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Resolved, key, resolvedTitle, resolvedMessage, resetAt), Ct);
        var resolved = await Host.SettledAsync(key, "resolved");
        var resolvedId = (long)resolved["id"]!;

        Assert.Equal(id + 1, resolvedId);
        Assert.Equal([AlertChannels.Discord, AlertChannels.PagerDuty, AlertChannels.Slack, AlertChannels.Webhook], Channels(resolved));
        var pagerDuty = Recorder.For("/pagerduty").Where(r => r.RawBody.Contains(key, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, pagerDuty.Count);
        AssertJson(ExpectedPayloads.PagerDutyResolve(AlertsAppFixture.RoutingKey, key), pagerDuty[1].Body);
        var slack = Recorder.For("/slack").Where(r => r.RawBody.Contains(key, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, slack.Count);
        AssertJson(ExpectedPayloads.Slack("RESOLVED", "#2EB67D", resolvedTitle, resolvedMessage, key, source, "2026-11-23T12:45:00.000Z"), slack[1].Body);
        var discord = Recorder.For("/discord").Where(r => r.RawBody.Contains(key, StringComparison.Ordinal)).ToList();
        AssertJson(ExpectedPayloads.Discord("RESOLVED", 3061373, resolvedTitle, resolvedMessage, key, source, "2026-11-23T12:45:00.000Z"), discord[1].Body);
        var webhook = Recorder.For("/webhook").Where(r => r.RawBody.Contains(key, StringComparison.Ordinal)).ToList();
        AssertJson(ExpectedPayloads.Webhook(resolvedId, "resolved", key, resolvedTitle, resolvedMessage, "2026-11-23T12:45:00.000Z", source), webhook[1].Body);

        var history = await Host.AlertsAsync();
        Assert.Equal(resolvedId, (long)history[0]!["id"]!);
        Assert.NotNull(history.OfType<JsonObject>().Single(a => (long)a["id"]! == id)["resolved_at"]);

        // The key is closed: another resolve has nothing to resolve and sends nothing.
        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Resolved, key, resolvedTitle, resolvedMessage, resetAt), Ct);
        Assert.Equal(resolvedId, (long)(await Host.AlertsAsync())[0]!["id"]!);
    }

    [Fact]
    public async Task Duplicates_WithinCooldown_AreSuppressed_DeliveredOnce_AndCounted()
    {
        using var metrics = new AlertMetricsListener(Host);
        const string key = "budget:monthly:2026-11:80";
        var at = new DateTimeOffset(2026, 11, 23, 13, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 3; i++)
        {
            await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Warning, key, "Monthly budget 80 % used", $"Repeat {i}.", at.AddSeconds(i)), Ct);
        }

        var alert = await Host.SettledAsync(key, "warning");
        Assert.Equal(2, (int)alert["suppressed"]!);
        Assert.Equal("Repeat 0.", (string?)alert["message"]);

        // Lanes keep order: once a later alert has reached every channel, a duplicate would have arrived before it.
        const string marker = "test:marker:after-duplicates";
        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Info, marker, "Marker", "After the duplicates.", at), Ct);
        await Host.SettledAsync(marker, "info");
        Assert.Single(Recorder.For("/slack"), r => r.RawBody.Contains(key, StringComparison.Ordinal));
        Assert.Single(Recorder.For("/discord"), r => r.RawBody.Contains(key, StringComparison.Ordinal));
        Assert.Single(Recorder.For("/webhook"), r => r.RawBody.Contains(key, StringComparison.Ordinal));
        Assert.Single((await Host.AlertsAsync()).OfType<JsonObject>(), a => (string?)a["key"] == key);

        Assert.Equal(
            new Dictionary<string, long>
            {
                ["info/discord/delivered"] = 1, ["info/slack/delivered"] = 1, ["info/webhook/delivered"] = 1,
                ["warning/discord/delivered"] = 1, ["warning/none/suppressed"] = 2, ["warning/slack/delivered"] = 1, ["warning/webhook/delivered"] = 1,
            },
            metrics.Counts);
    }

    [Fact]
    public async Task Escalation_WithinCooldown_IsSent_AndItsResolveReachesEveryChannelThatHeardIt()
    {
        const string key = "rule:test_escalation";
        var at = new DateTimeOffset(2026, 11, 23, 14, 0, 0, TimeSpan.Zero);
        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Warning, key, "Getting worse", "Warning first.", at), Ct);
        await Host.SettledAsync(key, "warning");
        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Critical, key, "Got worse", "Critical now.", at.AddMinutes(1)), Ct);
        var critical = await Host.SettledAsync(key, "critical");
        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Warning, key, "Getting worse", "Warning again.", at.AddMinutes(2)), Ct);
        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Resolved, key, "Better", "All good.", at.AddMinutes(3)), Ct);
        var resolved = await Host.SettledAsync(key, "resolved");

        // The later WARNING was no louder than the CRITICAL sent a minute before: suppressed, counted on it.
        var criticalNow = (await Host.AlertsAsync()).OfType<JsonObject>().Single(a => (long)a["id"]! == (long)critical["id"]!);
        Assert.Equal(1, (int)criticalNow["suppressed"]!);
        Assert.Equal([AlertChannels.Discord, AlertChannels.PagerDuty, AlertChannels.Slack, AlertChannels.Webhook], Channels(critical));
        Assert.Equal([AlertChannels.Discord, AlertChannels.PagerDuty, AlertChannels.Slack, AlertChannels.Webhook], Channels(resolved));
        Assert.Equal(3, (await Host.AlertsAsync()).OfType<JsonObject>().Count(a => (string?)a["key"] == key));
    }

    [Fact]
    public async Task Report_And_Info_FollowTheirRoutes_AndAReportIsSentOncePerKey()
    {
        const string report = "report:daily:2026-11-22";
        const string info = "test:info:route";
        var at = new DateTimeOffset(2026, 11, 23, 0, 5, 0, TimeSpan.Zero);

        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Info, report, "Daily cost report 2026-11-22", "No cost data for 2026-11-22.", at), Ct);
        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Info, report, "Daily cost report 2026-11-22", "No cost data for 2026-11-22.", at), Ct);
        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Info, info, "Info", "Just so you know.", at), Ct);

        var reportAlert = await Host.SettledAsync(report, "info");
        var infoAlert = await Host.SettledAsync(info, "info");
        Assert.Equal([AlertChannels.Slack, AlertChannels.Webhook], Channels(reportAlert));
        Assert.Equal(1, (int)reportAlert["suppressed"]!);
        Assert.Equal([AlertChannels.Discord, AlertChannels.Slack, AlertChannels.Webhook], Channels(infoAlert));
        Assert.Equal(("delivered", 1, 200, (string?)null), Delivery(reportAlert, AlertChannels.Slack));
        Assert.Equal(("delivered", 1, 200, (string?)null), Delivery(reportAlert, AlertChannels.Webhook));
        Assert.DoesNotContain(Recorder.For("/discord"), r => r.RawBody.Contains(report, StringComparison.Ordinal));
        Assert.Single(Recorder.For("/slack"), r => r.RawBody.Contains(report, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AlertsApi_IsNewestFirst_HonoursLimit_AndIsForOperatorsOnly()
    {
        var at = new DateTimeOffset(2026, 11, 23, 15, 0, 0, TimeSpan.Zero);
        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Info, "test:api:first", "First", "1", at), Ct);
        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Info, "test:api:second", "Second", "2", at), Ct);

        var two = await Host.AlertsAsync(limit: 2);
        Assert.Equal(2, two.Count);
        Assert.Equal("test:api:second", (string?)two[0]!["key"]);
        Assert.Equal("test:api:first", (string?)two[1]!["key"]);
        Assert.Equal((long)two[1]!["id"]! + 1, (long)two[0]!["id"]!);
        Assert.Equal(["at", "deliveries", "details", "id", "key", "message", "resolved_at", "severity", "source", "suppressed", "title"],
            two[0]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));

        var operatorClient = Host.CreateClient(TestKeys.Operator);
        foreach (var bad in new[] { "0", "1001", "-5" })
        {
            using var response = await operatorClient.GetAsync($"/api/alerts?limit={bad}", Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
            Assert.Equal("invalid_argument", (string?)problem["type"]);
            Assert.Equal("limit must be between 1 and 1000.", (string?)problem["detail"]);
        }

        using var agent = await Host.CreateClient(TestKeys.Agent).GetAsync("/api/alerts", Ct);
        Assert.Equal(HttpStatusCode.Forbidden, agent.StatusCode);
        using var anonymous = await Host.CreateClient().GetAsync("/api/alerts", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task Logs_OfTheAlertTests_NeverContainWebhookUrlsOrRoutingKey()
    {
        // Its own round on every channel (the other tests of this class add to the same log), then the grep.
        const string key = "test:secrets:critical";
        var at = new DateTimeOffset(2026, 11, 23, 16, 0, 0, TimeSpan.Zero);
        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Critical, key, "Secrets check", "Every channel.", at), Ct);
        await Host.SettledAsync(key, "critical");
        await Host.Sink().RaiseAsync(new Alert(AlertSeverity.Resolved, key, "Secrets check", "Resolved.", at), Ct);
        await Host.SettledAsync(key, "resolved");

        var logs = Host.Logs.AllText;
        Assert.Contains($"delivered to {AlertChannels.PagerDuty}", logs, StringComparison.Ordinal);
        AssertNoSecrets(logs, fixture.Secrets);
    }
}
