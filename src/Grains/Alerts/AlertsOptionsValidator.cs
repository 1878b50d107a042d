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
