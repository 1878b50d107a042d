using Anchor.Orleans.Grains.Alerts;
using Anchor.Orleans.Grains.Alerts.Rules;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Grains.Tools;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anchor.Orleans.Api.Tests.Alerts;

/// <summary>Each rule fires once past its threshold with enough samples, stays quiet below MinSamples, and resolves.</summary>
public sealed class AlertRulesTests
{
    /// <summary>The facts these tests lean on, as the tools declare them (navigate, extract and run_task are searches).</summary>
    private static readonly ToolCatalogue Catalogue = new(
    [
        new ToolFacts("browser_navigate", Search: true),
        new ToolFacts("browser_extract", Search: true, Extraction: true),
        new ToolFacts("browser_run_task", Search: true),
        new ToolFacts("browser_click"),
        new ToolFacts("browser_snapshot"),
    ]);

    private static readonly DateTimeOffset Start = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Fast = TimeSpan.FromSeconds(1);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly AlertsOptions _options = new();
    private readonly AlertRules _rules;

    public AlertRulesTests() => _rules = new AlertRules(new FixedOptions<AlertsOptions>(_options), _time);

    [Fact]
    public void SearchTimeoutRate_FiresOnceAboveTenPercent_OnlyWithMinSamples_AndResolvesWhenDiluted()
    {
        Calls("browser_navigate", 2, "error", "timeout");
        Calls("browser_extract", 17, "success");
        Assert.Empty(Drain()); // 2 of 19: above 10 %, but below MinSamples (20)

        Calls("browser_run_task", 1, "success");
        Assert.Empty(Drain()); // 2 of 20 = 10 %: not above

        Calls("browser_click", 30, "error", "timeout"); // not a search tool: no effect on this rule…
        Assert.DoesNotContain(Drain(), a => a.Key == AlertRules.SearchTimeoutRateKey);

        Calls("browser_navigate", 1, "error", "timeout");
        var alert = Assert.Single(Drain(), a => a.Key == AlertRules.SearchTimeoutRateKey);
        Assert.Equal(AlertSeverity.Warning, alert.Severity);
        Assert.Equal("Search timeout rate above 10 %", alert.Title);
        Assert.Equal("14.3 % of search tool calls (3 of 21) timed out in the last 300 s; threshold 10 %.", alert.Message);
        Assert.Equal(Start, alert.At);
        Assert.Equal(new Dictionary<string, string> { ["value"] = "0.1429", ["threshold"] = "0.1", ["samples"] = "21", ["window_seconds"] = "300" }, alert.Details);

        Calls("browser_navigate", 5, "error", "timeout");
        Assert.DoesNotContain(Drain(), a => a.Key == AlertRules.SearchTimeoutRateKey); // fires once

        Calls("browser_navigate", 53, "success"); // 8 of 79: 10.1 %
        Assert.DoesNotContain(Drain(), a => a.Key == AlertRules.SearchTimeoutRateKey);
        Calls("browser_navigate", 1, "success"); // 8 of 80: 10 %
        var resolved = Assert.Single(Drain(), a => a.Key == AlertRules.SearchTimeoutRateKey);
        Assert.Equal(AlertSeverity.Resolved, resolved.Severity);
        Assert.Equal("Search timeout rate back under 10 %", resolved.Title);
        Assert.Equal("10 % of search tool calls (8 of 80) timed out in the last 300 s; threshold 10 %.", resolved.Message);
    }

    [Fact]
    public void SearchTimeoutRate_ResolvesWhenTheWindowSlidesPastTheTimeouts()
    {
        Calls("browser_navigate", 20, "error", "timeout");
        Assert.Contains(Drain(), a => a.Key == AlertRules.SearchTimeoutRateKey && a.Severity == AlertSeverity.Warning);

        _time.Advance(TimeSpan.FromSeconds(299));
        _rules.Evaluate();
        Assert.Empty(Drain());

        _time.Advance(TimeSpan.FromSeconds(1));
        _rules.Evaluate();
        var resolved = Assert.Single(Drain(), a => a.Key == AlertRules.SearchTimeoutRateKey);
        Assert.Equal(AlertSeverity.Resolved, resolved.Severity);
        Assert.Equal("No search tool calls in the last 300 s.", resolved.Message);
        Assert.Equal(Start.AddSeconds(300), resolved.At);
    }

    [Fact]
    public void ExtractionFailureRate_FiresAboveFivePercent_AndResolves()
    {
        Extractions(19, ok: true);
        Extractions(1, ok: false);
        Assert.Empty(Drain()); // 1 of 20 = 5 %: not above

        Extractions(1, ok: false);
        var alert = Assert.Single(Drain());
        Assert.Equal((AlertSeverity.Warning, AlertRules.ExtractionFailureRateKey, "Extraction failure rate above 5 %"), (alert.Severity, alert.Key, alert.Title));
        Assert.Equal("9.5 % of extractions (2 of 21) failed in the last 300 s; threshold 5 %.", alert.Message);

        Extractions(10, ok: false);
        Assert.Empty(Drain());

        Extractions(209, ok: true); // 12 of 240 = 5 %
        var resolved = Assert.Single(Drain());
        Assert.Equal((AlertSeverity.Resolved, AlertRules.ExtractionFailureRateKey), (resolved.Severity, resolved.Key));
        Assert.Equal("5 % of extractions (12 of 240) failed in the last 300 s; threshold 5 %.", resolved.Message);
    }

    [Fact]
    public void ExtractionFailures_BelowMinSamples_NeverFire()
    {
        Extractions(19, ok: false);
        Assert.Empty(Drain());
    }

    [Fact]
    public void AverageToolResponse_FiresAbove120Seconds_WithMinSamples_AndResolves()
    {
        Calls("browser_snapshot", 19, "success", duration: TimeSpan.FromSeconds(200));
        Assert.Empty(Drain());

        Calls("browser_snapshot", 1, "success", duration: TimeSpan.FromSeconds(200));
        var alert = Assert.Single(Drain());
        Assert.Equal((AlertSeverity.Warning, AlertRules.ToolResponseTimeKey, "Average tool response above 120 s"), (alert.Severity, alert.Key, alert.Title));
        Assert.Equal("Tool calls took 200 s on average (20 calls) in the last 300 s; threshold 120 s.", alert.Message);

        Calls("browser_snapshot", 20, "success", duration: TimeSpan.FromSeconds(40)); // 40 calls averaging 120 s
        var resolved = Assert.Single(Drain());
        Assert.Equal((AlertSeverity.Resolved, "Average tool response back under 120 s"), (resolved.Severity, resolved.Title));
        Assert.Equal("Tool calls took 120 s on average (40 calls) in the last 300 s; threshold 120 s.", resolved.Message);
    }

    [Fact]
    public void CleanupFailureRate_FiresAboveTwoPercent_AndResolves()
    {
        Cleanups(49, ok: true);
        Cleanups(1, ok: false);
        Assert.Empty(Drain()); // 1 of 50 = 2 %

        Cleanups(1, ok: false);
        var alert = Assert.Single(Drain());
        Assert.Equal((AlertSeverity.Warning, AlertRules.CleanupFailureRateKey, "Cleanup failure rate above 2 %"), (alert.Severity, alert.Key, alert.Title));
        Assert.Equal("3.9 % of cleanups (2 of 51) failed in the last 300 s; threshold 2 %.", alert.Message);

        Cleanups(49, ok: true); // 2 of 100
        Assert.Equal(AlertSeverity.Resolved, Assert.Single(Drain()).Severity);
    }

    [Fact]
    public void ErrorRate_IsCriticalAbove20Percent_IgnoringRefusals_AndResolves()
    {
        Calls("browser_click", 100, "refused", "rate_limited");
        Calls("browser_click", 16, "success");
        Calls("browser_click", 4, "error", "browser_error");
        Assert.Empty(Drain()); // 4 of 20 that ran = 20 %

        Calls("browser_click", 1, "error", "browser_error");
        var alert = Assert.Single(Drain());
        Assert.Equal((AlertSeverity.Critical, AlertRules.ErrorRateKey, "Tool error rate above 20 %"), (alert.Severity, alert.Key, alert.Title));
        Assert.Equal("23.8 % of tool calls that ran (5 of 21) failed in the last 300 s; threshold 20 %.", alert.Message);

        Calls("browser_click", 4, "success"); // 5 of 25
        var resolved = Assert.Single(Drain());
        Assert.Equal((AlertSeverity.Resolved, AlertRules.ErrorRateKey), (resolved.Severity, resolved.Key));
    }

    [Fact]
    public void Circuit_OpenRaisesCriticalOnce_HalfOpenKeepsIt_ClosedResolvesOnce()
    {
        _rules.RecordCircuit("browser", "Open");
        _rules.RecordCircuit("browser", "open");
        _rules.RecordCircuit("browser", "HalfOpen");
        _rules.RecordCircuit("browser", "half_open");
        _rules.RecordCircuit("browser", "Closed");
        _rules.RecordCircuit("browser", "closed");

        var alerts = Drain();
        Assert.Equal(2, alerts.Count);
        Assert.Equal((AlertSeverity.Critical, "rule:circuit_open:browser", "Circuit open: browser"), (alerts[0].Severity, alerts[0].Key, alerts[0].Title));
        Assert.Equal("The browser circuit breaker is open: calls that need it are refused fast until it closes.", alerts[0].Message);
        Assert.Equal(new Dictionary<string, string> { ["component"] = "browser", ["state"] = "open" }, alerts[0].Details);
        Assert.Equal((AlertSeverity.Resolved, "rule:circuit_open:browser", "Circuit closed: browser"), (alerts[1].Severity, alerts[1].Key, alerts[1].Title));
    }

    [Fact]
    public void Circuit_ComponentsAreIndependent_AndLabelsBounded()
    {
        _rules.RecordCircuit("browser", "Open");
        _rules.RecordCircuit("Redis Storage!", "Isolated");
        _rules.RecordCircuit("browser", "Closed");

        Assert.Equal(
            [(AlertSeverity.Critical, "rule:circuit_open:browser"), (AlertSeverity.Critical, "rule:circuit_open:redisstorage"), (AlertSeverity.Resolved, "rule:circuit_open:browser")],
            Drain().Select(a => (a.Severity, a.Key)));
    }

    [Fact]
    public void MinSamplesAndWindow_AreConfigurable()
    {
        _options.Rules.MinSamples = 5;
        _options.Rules.WindowSeconds = 60;
        Calls("browser_navigate", 5, "error", "timeout");
        var alert = Assert.Single(Drain(), a => a.Key == AlertRules.SearchTimeoutRateKey);
        Assert.Equal("100 % of search tool calls (5 of 5) timed out in the last 60 s; threshold 10 %.", alert.Message);

        _time.Advance(TimeSpan.FromSeconds(60));
        _rules.Evaluate();
        Assert.Contains(Drain(), a => a.Key == AlertRules.SearchTimeoutRateKey && a.Severity == AlertSeverity.Resolved);
    }

    [Fact]
    public void OpenRule_StaysOpen_WhileTheWindowHoldsTooFewSamplesToJudge()
    {
        Calls("browser_navigate", 20, "error", "timeout");
        Drain();
        _time.Advance(TimeSpan.FromSeconds(200));
        Calls("browser_navigate", 5, "success"); // 25 samples, 80 % timeouts

        _time.Advance(TimeSpan.FromSeconds(100)); // the 20 timeouts slide out: 5 successes left, below MinSamples
        _rules.Evaluate();
        Assert.DoesNotContain(Drain(), a => a.Key == AlertRules.SearchTimeoutRateKey);
    }

    private void Calls(string tool, int count, string outcome, string? errorCode = null, TimeSpan? duration = null)
    {
        for (var i = 0; i < count; i++)
        {
            _rules.RecordToolCall(Catalogue.Find(tool)!, outcome, errorCode, duration ?? Fast);
        }
    }

    private void Extractions(int count, bool ok)
    {
        for (var i = 0; i < count; i++)
        {
            _rules.RecordExtraction(ok);
        }
    }

    private void Cleanups(int count, bool ok)
    {
        for (var i = 0; i < count; i++)
        {
            _rules.RecordCleanup(ok);
        }
    }

    private List<Alert> Drain()
    {
        var alerts = new List<Alert>();
        while (_rules.Transitions.TryRead(out var alert))
        {
            alerts.Add(alert);
        }

        return alerts;
    }
}

/// <summary>Options that are what the test set, read through <see cref="IOptionsMonitor{TOptions}"/>.</summary>
public sealed class FixedOptions<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
