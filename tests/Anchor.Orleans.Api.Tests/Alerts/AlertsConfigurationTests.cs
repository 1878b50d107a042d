using Anchor.Orleans.Silo;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.Alerts;

/// <summary>The alerting keys are validated at start-up like every other section: one line per problem, naming the key.</summary>
public sealed class AlertsConfigurationTests
{
    [Theory]
    [InlineData("Anchor:Alerts:Rules:WindowSeconds", "5", "The field Anchor:Alerts:Rules:WindowSeconds must be between 10 and 86400. (got '5')")]
    [InlineData("Anchor:Alerts:Rules:MinSamples", "0", "The field Anchor:Alerts:Rules:MinSamples must be between 1 and 1000000. (got '0')")]
    [InlineData("Anchor:Alerts:Rules:SearchTimeoutRate", "1.5", "The field Anchor:Alerts:Rules:SearchTimeoutRate must be between 0 and 1. (got '1.5')")]
    [InlineData("Anchor:Alerts:Delivery:MaxRetries", "11", "The field Anchor:Alerts:Delivery:MaxRetries must be between 0 and 10. (got '11')")]
    [InlineData("Anchor:Alerts:Delivery:AttemptTimeoutSeconds", "120", "Anchor:Alerts:Delivery:TotalTimeoutSeconds must be at least Anchor:Alerts:Delivery:AttemptTimeoutSeconds.")]
    [InlineData("Anchor:Alerts:Reports:DailyAtUtc", "1.00:00:00", "Anchor:Alerts:Reports:DailyAtUtc must be a time of day between 00:00:00 and 23:59:59.")]
    [InlineData("Anchor:Alerts:PagerDuty:EventsUrl", "events.pagerduty.example/v2", "Anchor:Alerts:PagerDuty:EventsUrl must be an absolute http:// or https:// URL.")]
    public async Task Start_FailsWithOneLineNamingTheKey_WhenAnAlertsValueIsWrong(string key, string value, string expected)
    {
        var failures = await AnchorAppHost.StartupFailuresAsync(new() { [key] = value });

        Assert.Equal([expected], failures);
    }
}
