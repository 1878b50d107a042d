using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Alerts;

/// <summary>Channel URLs must be absolute http(s); the URL itself is a secret and is never echoed.</summary>
public sealed class AlertsOptionsValidator : IValidateOptions<AlertsOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertsOptions options)
    {
        var failures = new List<string>();
        Check("Alerts:Slack:WebhookUrl", options.Slack.WebhookUrl, failures);
        Check("Alerts:Discord:WebhookUrl", options.Discord.WebhookUrl, failures);
        Check("Alerts:PagerDuty:EventsUrl", options.PagerDuty.EventsUrl, failures);
        Check("Alerts:Webhook:Url", options.Webhook.Url, failures);
        if (!string.IsNullOrEmpty(options.PagerDuty.RoutingKey) && string.IsNullOrEmpty(options.PagerDuty.EventsUrl))
        {
            failures.Add("Anchor:Alerts:PagerDuty:EventsUrl must be set when Anchor:Alerts:PagerDuty:RoutingKey is.");
        }

        if (options.Delivery.TotalTimeoutSeconds < options.Delivery.AttemptTimeoutSeconds)
        {
            failures.Add("Anchor:Alerts:Delivery:TotalTimeoutSeconds must be at least Anchor:Alerts:Delivery:AttemptTimeoutSeconds.");
        }

        if (options.Reports.DailyAtUtc < TimeSpan.Zero || options.Reports.DailyAtUtc >= TimeSpan.FromDays(1))
        {
            failures.Add("Anchor:Alerts:Reports:DailyAtUtc must be a time of day between 00:00:00 and 23:59:59.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(string key, string value, List<string> failures)
    {
        if (!string.IsNullOrEmpty(value)
            && (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            failures.Add($"Anchor:{key} must be an absolute http:// or https:// URL.");
        }
    }
}
