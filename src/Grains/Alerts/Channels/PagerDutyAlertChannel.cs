using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Alerts.Channels;

/// <summary>
/// PagerDuty Events API v2 (<c>Alerts:PagerDuty:EventsUrl</c>): a <c>trigger</c> with the alert key as
/// <c>dedup_key</c>, so PagerDuty groups repeats into one incident, and a <c>resolve</c> with the same key for RESOLVED
/// (a resolve carries no payload, per the API). The routing key travels in the body, never in a log.
/// </summary>
public sealed class PagerDutyAlertChannel(IHttpClientFactory http, IOptionsMonitor<AlertsOptions> options, TimeProvider time)
    : HttpAlertChannel(http, options, time)
{
    /// <summary>PagerDuty's limit on <c>payload.summary</c>.</summary>
    private const int MaxSummary = 1024;

    public override string Name => AlertChannels.PagerDuty;

    protected override string? Endpoint(AlertsOptions options) =>
        string.IsNullOrEmpty(options.PagerDuty.RoutingKey) ? null : options.PagerDuty.EventsUrl;

    protected override JsonObject Payload(AlertEntry entry, AlertsOptions options)
    {
        var body = new JsonObject
        {
            ["routing_key"] = options.PagerDuty.RoutingKey,
            ["event_action"] = entry.Severity == AlertSeverity.Resolved ? "resolve" : "trigger",
            ["dedup_key"] = entry.Key,
        };
        if (entry.Severity != AlertSeverity.Resolved)
        {
            var details = DetailsObject(entry);
            details["message"] = entry.Message;
            details["alert_id"] = entry.Id;
            body["payload"] = new JsonObject
            {
                ["summary"] = Truncate(entry.Title, MaxSummary),
                ["source"] = entry.Source,
                ["severity"] = Severity(entry.Severity),
                ["timestamp"] = Iso(entry.At),
                ["component"] = "anchor-orleans",
                ["custom_details"] = details,
            };
        }

        body["client"] = "Anchor.Orleans";
        return body;
    }

    /// <summary>PagerDuty's severities are critical, error, warning and info.</summary>
    public static string Severity(AlertSeverity severity) => severity switch
    {
        AlertSeverity.Critical => "critical",
        AlertSeverity.Warning => "warning",
        _ => "info",
    };
}
