using System.Text.Json;

namespace Anchor.Orleans.Api.Tests.Alerts;

/// <summary>The exact JSON each channel must receive, written out as the receiving service documents it.</summary>
public static class ExpectedPayloads
{
    public static string Slack(string loud, string color, string title, string message, string key, string source, string at, params (string Name, string Value)[] details)
    {
        var fields = details.Length == 0 ? "" : $$"""
            { "type": "section", "fields": [ {{string.Join(", ", details.Select(d => $$"""{ "type": "mrkdwn", "text": {{J($"*{d.Name}*\n{d.Value}")}} }"""))}} ] },
            """;
        var section = message.Length == 0 ? "" : $$"""
            { "type": "section", "text": { "type": "mrkdwn", "text": {{J(message)}} } },
            """;
        return $$"""
            {
              "text": {{J($"[{loud}] {title}")}},
              "attachments": [ {
                "color": {{J(color)}},
                "blocks": [
                  { "type": "header", "text": { "type": "plain_text", "text": {{J(title)}}, "emoji": false } },
                  {{section}}
                  {{fields}}
                  { "type": "context", "elements": [ { "type": "mrkdwn", "text": {{J($"{loud} · `{key}` · {source} · {at}")}} } ] }
                ]
              } ]
            }
            """;
    }

    public static string Discord(string loud, int color, string title, string message, string key, string source, string at, params (string Name, string Value)[] details)
    {
        var fields = details.Length == 0 ? "" : $$"""
            "fields": [ {{string.Join(", ", details.Select(d => $$"""{ "name": {{J(d.Name)}}, "value": {{J(d.Value)}}, "inline": true }"""))}} ],
            """;
        return $$"""
            {
              "content": {{J($"**{loud}** {title}")}},
              "embeds": [ {
                "title": {{J(title)}},
                "description": {{J(message)}},
                "color": {{color}},
                "timestamp": {{J(at)}},
                {{fields}}
                "footer": { "text": {{J($"{key} · {source}")}} }
              } ],
              "allowed_mentions": { "parse": [] }
            }
            """;
    }

    public static string Webhook(long id, string severity, string key, string title, string message, string at, string source, params (string Name, string Value)[] details) => $$"""
        {
          "id": {{id}},
          "severity": {{J(severity)}},
          "key": {{J(key)}},
          "title": {{J(title)}},
          "message": {{J(message)}},
          "at": {{J(at)}},
          "source": {{J(source)}},
          "details": { {{string.Join(", ", details.Select(d => $"{J(d.Name)}: {J(d.Value)}"))}} }
        }
        """;

    public static string PagerDutyTrigger(string routingKey, string key, string summary, string source, string severity, string at, long id, string message, params (string Name, string Value)[] details) => $$"""
        {
          "routing_key": {{J(routingKey)}},
          "event_action": "trigger",
          "dedup_key": {{J(key)}},
          "payload": {
            "summary": {{J(summary)}},
            "source": {{J(source)}},
            "severity": {{J(severity)}},
            "timestamp": {{J(at)}},
            "component": "anchor-orleans",
            "custom_details": { {{string.Concat(details.Select(d => $"{J(d.Name)}: {J(d.Value)}, "))}}"message": {{J(message)}}, "alert_id": {{id}} }
          },
          "client": "Anchor.Orleans"
        }
        """;

    public static string PagerDutyResolve(string routingKey, string key) => $$"""
        { "routing_key": {{J(routingKey)}}, "event_action": "resolve", "dedup_key": {{J(key)}}, "client": "Anchor.Orleans" }
        """;

    /// <summary>A JSON string literal.</summary>
    private static string J(string value) => JsonSerializer.Serialize(value);
}
