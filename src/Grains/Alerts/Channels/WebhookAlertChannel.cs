using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Alerts.Channels;

/// <summary>The generic webhook: the alert itself as snake_case JSON, for whatever the operator runs behind it.</summary>
public sealed class WebhookAlertChannel(IHttpClientFactory http, IOptionsMonitor<AlertsOptions> options, TimeProvider time)
    : HttpAlertChannel(http, options, time)
{
    public override string Name => AlertChannels.Webhook;

    protected override string? Endpoint(AlertsOptions options) => options.Webhook.Url;

    protected override JsonObject Payload(AlertEntry entry, AlertsOptions options) => new()
    {
        ["id"] = entry.Id,
        ["severity"] = AlertRouting.Label(entry.Severity),
        ["key"] = entry.Key,
        ["title"] = entry.Title,
        ["message"] = entry.Message,
        ["at"] = Iso(entry.At),
        ["source"] = entry.Source,
        ["details"] = DetailsObject(entry),
    };
}
