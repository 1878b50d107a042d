using System.ComponentModel.DataAnnotations;

namespace Anchor.Orleans.Grains.Alerts;

/// <summary>Alert channels (<c>Anchor:Alerts</c>). A channel with no URL is off. URLs and keys are secrets.</summary>
public sealed class AlertsOptions
{
    public const string SectionName = "Alerts";

    public WebhookChannel Slack { get; set; } = new();

    public WebhookChannel Discord { get; set; } = new();

    public PagerDutyChannel PagerDuty { get; set; } = new();

    public GenericWebhookChannel Webhook { get; set; } = new();

    /// <summary>An alert with the same key is not sent again within this many seconds.</summary>
    [Range(0, 86_400)]
    public int CooldownSeconds { get; set; } = 300;

    public sealed class WebhookChannel
    {
        public string WebhookUrl { get; set; } = "";
    }

    public sealed class GenericWebhookChannel
    {
        public string Url { get; set; } = "";
    }

    public sealed class PagerDutyChannel
    {
        public string RoutingKey { get; set; } = "";

        public string EventsUrl { get; set; } = "https://events.pagerduty.com/v2/enqueue";
    }
}
