using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Alerts;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Api.Tests.Alerts;

/// <summary>
/// A <see cref="WebhookRecorder"/> standing in for every alert channel, and the real app configured to alert to it
/// with secret-looking URLs and routing key (so tests can prove they never reach the logs).
/// </summary>
public sealed class AlertsAppFixture : IAsyncLifetime
{
    public const string SlackToken = "xoxb-slack-secret-9f3a7c1e5b";
    public const string DiscordToken = "discord-secret-4b8e2d6a0c";
    public const string WebhookToken = "whsec-generic-5d1c9b7a3e";
    public const string RoutingKey = "R0UT1NGKEYf9e8d7c6b5a43210abcd";

    public WebhookRecorder Recorder { get; private set; } = null!;

    public AnchorAppHost Host { get; private set; } = null!;

    /// <summary>Every configured secret: the tokens and the full URLs that carry them.</summary>
    public IReadOnlyList<string> Secrets { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        Recorder = await WebhookRecorder.StartAsync();
        Recorder.Respond("/pagerduty", 202);
        var settings = Settings(Recorder);
        Secrets = SecretsOf(settings);
        Host = await AnchorAppHost.StartAsync(settings);
    }

    /// <summary>App settings alerting to <paramref name="recorder"/>, with fast retries so failures show quickly.</summary>
    public static Dictionary<string, string?> Settings(WebhookRecorder recorder)
    {
        var settings = TestKeys.Settings();
        settings["Anchor:Alerts:Slack:WebhookUrl"] = recorder.Url($"/slack/services/T0ALERTS/B0ALERTS/{SlackToken}");
        settings["Anchor:Alerts:Discord:WebhookUrl"] = recorder.Url($"/discord/api/webhooks/1234567890/{DiscordToken}");
        settings["Anchor:Alerts:PagerDuty:EventsUrl"] = recorder.Url("/pagerduty/v2/enqueue");
        settings["Anchor:Alerts:PagerDuty:RoutingKey"] = RoutingKey;
        settings["Anchor:Alerts:Webhook:Url"] = recorder.Url($"/webhook/hooks/{WebhookToken}");
        settings["Anchor:Alerts:Delivery:MaxRetries"] = "2";
        settings["Anchor:Alerts:Delivery:RetryDelaySeconds"] = "0.05";
        settings["Anchor:Alerts:Delivery:AttemptTimeoutSeconds"] = "1";
        settings["Anchor:Alerts:Delivery:TotalTimeoutSeconds"] = "10";
        // Everything the HTTP stack and Polly can say about a delivery, so a leak would be seen.
        settings["Logging:LogLevel:Polly"] = "Trace";
        settings["Logging:LogLevel:System.Net.Http"] = "Trace";
        settings["Logging:LogLevel:Microsoft.Extensions.Http"] = "Trace";
        settings["Logging:LogLevel:Anchor"] = "Trace";
        return settings;
    }

    public static IReadOnlyList<string> SecretsOf(Dictionary<string, string?> settings) =>
    [
        SlackToken, DiscordToken, WebhookToken, RoutingKey,
        settings["Anchor:Alerts:Slack:WebhookUrl"]!, settings["Anchor:Alerts:Discord:WebhookUrl"]!, settings["Anchor:Alerts:Webhook:Url"]!,
    ];

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Recorder.DisposeAsync();
    }
}

/// <summary>Helpers the alert tests share.</summary>
public static class AlertTesting
{
    public static IAlertSink Sink(this AnchorAppHost host) => host.Services.GetRequiredService<IAlertSink>();

    /// <summary>The <c>source</c> this host's alerts carry (host/silo endpoint).</summary>
    public static string Source(this AnchorAppHost host) => ((GrainAlertSink)host.Sink()).Source;

    /// <summary><c>GET /api/alerts</c> as the operator.</summary>
    public static async Task<JsonArray> AlertsAsync(this AnchorAppHost host, int? limit = null)
    {
        var client = host.CreateClient(TestKeys.Operator);
        var path = limit is null ? "/api/alerts" : $"/api/alerts?limit={limit}";
        return (await client.GetFromJsonAsync<JsonArray>(path, TestContext.Current.CancellationToken))!;
    }

    /// <summary>Waits until the newest alert with <paramref name="key"/> and <paramref name="severity"/> has no pending delivery.</summary>
    public static async Task<JsonObject> SettledAsync(this AnchorAppHost host, string key, string severity, TimeSpan? timeout = null) =>
        await Poll.UntilAsync(
            async () => (await host.AlertsAsync()).OfType<JsonObject>().FirstOrDefault(a => (string?)a["key"] == key && (string?)a["severity"] == severity),
            alert => alert is not null && alert["deliveries"]!.AsArray().All(d => (string?)d!["outcome"] != "pending"),
            timeout ?? TimeSpan.FromSeconds(30),
            $"alert {key} ({severity}) settled") ?? throw new InvalidOperationException("unreachable");

    /// <summary>The delivery of <paramref name="alert"/> to <paramref name="channel"/>, as (outcome, attempts, status_code, error).</summary>
    public static (string? Outcome, int Attempts, int? StatusCode, string? Error) Delivery(JsonObject alert, string channel)
    {
        var d = alert["deliveries"]!.AsArray().Single(x => (string?)x!["channel"] == channel)!;
        return ((string?)d["outcome"], (int)d["attempts"]!, (int?)d["status_code"], (string?)d["error"]);
    }

    public static IReadOnlyList<string> Channels(JsonObject alert) =>
        [.. alert["deliveries"]!.AsArray().Select(d => (string)d!["channel"]!).Order(StringComparer.Ordinal)];

    /// <summary>The ISO timestamp every channel writes.</summary>
    public static string Iso(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public static void AssertJson(string expected, JsonNode? actual)
    {
        var want = JsonNode.Parse(expected);
        Assert.True(JsonNode.DeepEquals(want, actual), $"expected\n{want?.ToJsonString()}\nactual\n{actual?.ToJsonString()}");
    }

    public static void AssertNoSecrets(string logs, IEnumerable<string> secrets)
    {
        Assert.NotEmpty(logs);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, logs, StringComparison.OrdinalIgnoreCase);
        }
    }
}
