using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Alerts.Channels;

/// <summary>
/// Slack incoming webhook: <c>text</c> (the notification line) and one attachment coloured by severity holding
/// Block Kit blocks: a header, the message, up to ten detail fields and a context line (key, source, time).
/// </summary>
public sealed class SlackAlertChannel(IHttpClientFactory http, IOptionsMonitor<AlertsOptions> options, TimeProvider time)
    : HttpAlertChannel(http, options, time)
{
    /// <summary>Slack's limits: a section's text, and fields per section.</summary>
    private const int MaxSectionText = 3000;
    private const int MaxFields = 10;

    public override string Name => AlertChannels.Slack;

    protected override string? Endpoint(AlertsOptions options) => options.Slack.WebhookUrl;

    protected override JsonObject Payload(AlertEntry entry, AlertsOptions options)
    {
        var blocks = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "header",
                ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = entry.Title, ["emoji"] = false },
            },
        };
        if (entry.Message.Length > 0)
        {
            blocks.Add(new JsonObject
            {
                ["type"] = "section",
                ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = Truncate(Escape(entry.Message), MaxSectionText) },
            });
        }

        if (entry.Details.Count > 0)
        {
            var fields = new JsonArray();
            foreach (var (key, value) in entry.Details.Take(MaxFields))
            {
                fields.Add(new JsonObject { ["type"] = "mrkdwn", ["text"] = $"*{Escape(key)}*\n{Escape(value)}" });
            }

            blocks.Add(new JsonObject { ["type"] = "section", ["fields"] = fields });
        }

        blocks.Add(new JsonObject
        {
            ["type"] = "context",
            ["elements"] = new JsonArray
            {
                new JsonObject { ["type"] = "mrkdwn", ["text"] = $"{Loud(entry.Severity)} · `{Escape(entry.Key)}` · {Escape(entry.Source)} · {Iso(entry.At)}" },
            },
        });

        return new JsonObject
        {
            ["text"] = $"[{Loud(entry.Severity)}] {Escape(entry.Title)}",
            ["attachments"] = new JsonArray
            {
                new JsonObject { ["color"] = AlertColors.Hex(entry.Severity), ["blocks"] = blocks },
            },
        };
    }

    /// <summary>Slack mrkdwn control characters (so alert text cannot forge links or mentions).</summary>
    internal static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal);
}

/// <summary>One colour per severity, shared by Slack (hex) and Discord (integer).</summary>
public static class AlertColors
{
    public static string Hex(AlertSeverity severity) => severity switch
    {
        AlertSeverity.Critical => "#D0021B",
        AlertSeverity.Warning => "#F2A900",
        AlertSeverity.Resolved => "#2EB67D",
        _ => "#2F80ED",
    };

    public static int Rgb(AlertSeverity severity) => Convert.ToInt32(Hex(severity)[1..], 16);
}
