using Anchor.Orleans.Grains.Interfaces.Alerts;

namespace Anchor.Orleans.Grains.Alerts;

/// <summary>
/// Which channels hear an alert. INFO and WARNING go to the chat channels and the generic webhook; only CRITICAL
/// pages (PagerDuty), so on-call is woken for what needs a human now. Keys under <c>report:</c> take the
/// reports route (Slack and the webhook). A RESOLVED goes to the channels that heard the alert it resolves
/// (decided by the alert grain). A channel without its URL or routing key is off.
/// </summary>
public static class AlertRouting
{
    public const string ReportKeyPrefix = "report:";

    private static readonly string[] Chat = [AlertChannels.Slack, AlertChannels.Discord, AlertChannels.Webhook];
    private static readonly string[] Paging = [AlertChannels.Slack, AlertChannels.Discord, AlertChannels.Webhook, AlertChannels.PagerDuty];
    private static readonly string[] Reports = [AlertChannels.Slack, AlertChannels.Webhook];

    /// <summary>The configured channels for a new (not RESOLVED) alert.</summary>
    public static IReadOnlyList<string> Route(string key, AlertSeverity severity, AlertsOptions options)
    {
        var route = key.StartsWith(ReportKeyPrefix, StringComparison.Ordinal) ? Reports
            : severity == AlertSeverity.Critical ? Paging
            : Chat;
        return [.. route.Where(channel => IsConfigured(channel, options))];
    }

    public static bool IsConfigured(string channel, AlertsOptions options) => channel switch
    {
        AlertChannels.Slack => !string.IsNullOrEmpty(options.Slack.WebhookUrl),
        AlertChannels.Discord => !string.IsNullOrEmpty(options.Discord.WebhookUrl),
        AlertChannels.PagerDuty => !string.IsNullOrEmpty(options.PagerDuty.RoutingKey) && !string.IsNullOrEmpty(options.PagerDuty.EventsUrl),
        AlertChannels.Webhook => !string.IsNullOrEmpty(options.Webhook.Url),
        _ => false,
    };

    /// <summary>The <c>severity</c> label and JSON value: info, warning, critical, resolved.</summary>
    public static string Label(AlertSeverity severity) => severity switch
    {
        AlertSeverity.Info => "info",
        AlertSeverity.Warning => "warning",
        AlertSeverity.Critical => "critical",
        AlertSeverity.Resolved => "resolved",
        _ => "unknown",
    };
}
