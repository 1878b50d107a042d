using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Alerts.Channels;

/// <summary>
/// Discord webhook: <c>content</c> (the notification line) and one embed coloured by severity with the message,
/// details as inline fields, key and source in the footer. Mentions are disabled so alert text cannot ping anyone.
/// </summary>
public sealed class DiscordAlertChannel(IHttpClientFactory http, IOptionsMonitor<AlertsOptions> options, TimeProvider time)
    : HttpAlertChannel(http, options, time)
{
    /// <summary>Discord's limits: embed title and description, fields per embed, field name and value.</summary>
    private const int MaxTitle = 256;
    private const int MaxDescription = 4096;
    private const int MaxFields = 25;
    private const int MaxFieldName = 256;
    private const int MaxFieldValue = 1024;

    public override string Name => AlertChannels.Discord;

    protected override string? Endpoint(AlertsOptions options) => options.Discord.WebhookUrl;

    protected override JsonObject Payload(AlertEntry entry, AlertsOptions options)
    {
        var embed = new JsonObject
        {
            ["title"] = Truncate(entry.Title, MaxTitle),
            ["description"] = Truncate(entry.Message, MaxDescription),
            ["color"] = AlertColors.Rgb(entry.Severity),
            ["timestamp"] = Iso(entry.At),
        };
        if (entry.Details.Count > 0)
        {
            var fields = new JsonArray();
            foreach (var (key, value) in entry.Details.Take(MaxFields))
            {
                fields.Add(new JsonObject
                {
                    ["name"] = Truncate(key, MaxFieldName),
                    ["value"] = Truncate(value.Length == 0 ? "-" : value, MaxFieldValue),
                    ["inline"] = true,
                });
            }

            embed["fields"] = fields;
        }

        embed["footer"] = new JsonObject { ["text"] = $"{entry.Key} · {entry.Source}" };
        return new JsonObject
        {
            ["content"] = $"**{Loud(entry.Severity)}** {entry.Title}",
            ["embeds"] = new JsonArray { embed },
            ["allowed_mentions"] = new JsonObject { ["parse"] = new JsonArray() },
        };
    }
}
