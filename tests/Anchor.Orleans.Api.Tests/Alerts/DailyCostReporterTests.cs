using Anchor.Orleans.Grains.Alerts;
using Anchor.Orleans.Grains.Alerts.Reports;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Anchor.Orleans.Api.Tests.Alerts;

/// <summary>The daily cost report: sent for the UTC day that ended, at the configured time, every day, on fake time.</summary>
public sealed class DailyCostReporterTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Reporter_SendsYesterdaysReport_AtDailyAtUtc_EveryDay()
    {
        var time = new FakeTimeProvider(Start);
        var sink = new RecordingSink();
        using var reporter = new DailyCostReporter(new NoCostReportSource(), sink, new FixedOptions<AlertsOptions>(new AlertsOptions()), time, NullLogger<DailyCostReporter>.Instance);
        await reporter.StartAsync(TestContext.Current.CancellationToken);

        // Time moves only once the reporter's timer is set: a timer set after the clock moved would wait a day more.
        await Poll.UntilAsync(() => Task.FromResult(reporter.WaitingFor), w => w == new DateTimeOffset(2026, 11, 24, 0, 5, 0, TimeSpan.Zero), TimeSpan.FromSeconds(10), "the reporter to wait for the first report");
        time.Advance(new TimeSpan(14, 4, 59));
        time.Advance(TimeSpan.FromSeconds(1)); // 2026-11-24T00:05:00Z
        await Poll.UntilAsync(() => sink.Alerts.Count == 1, TimeSpan.FromSeconds(10), "the first report");

        var report = sink.Alerts.Single();
        Assert.Equal(AlertSeverity.Info, report.Severity);
        Assert.Equal("report:daily:2026-11-23", report.Key);
        Assert.Equal("Daily cost report 2026-11-23", report.Title);
        Assert.Equal("No cost data for 2026-11-23.", report.Message);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 0, 5, 0, TimeSpan.Zero), report.At);
        Assert.Equal(new Dictionary<string, string> { ["day"] = "2026-11-23" }, report.Details);

        await Poll.UntilAsync(() => Task.FromResult(reporter.WaitingFor), w => w == new DateTimeOffset(2026, 11, 25, 0, 5, 0, TimeSpan.Zero), TimeSpan.FromSeconds(10), "the reporter to wait for the second report");
        time.Advance(TimeSpan.FromDays(1));
        await Poll.UntilAsync(() => sink.Alerts.Count == 2, TimeSpan.FromSeconds(10), "the second report");
        Assert.Equal("report:daily:2026-11-24", sink.Alerts.Last().Key);

        await reporter.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Report_WithFigures_SpellsOutSpendLimitsAndTopClients()
    {
        var time = new FakeTimeProvider(Start);
        var source = new FixedSource(new DailyCostReport(new DateOnly(2026, 11, 22), 12.345m, 100m, 120m, 2000m, 42, 1234,
            [new ClientSpend("agent-a", 5m), new ClientSpend("agent-b", 3.5m)]));
        using var reporter = new DailyCostReporter(source, new RecordingSink(), new FixedOptions<AlertsOptions>(new AlertsOptions()), time, NullLogger<DailyCostReporter>.Instance);

        var report = await reporter.BuildAsync(new DateOnly(2026, 11, 22), TestContext.Current.CancellationToken);

        Assert.Equal("report:daily:2026-11-22", report.Key);
        Assert.Equal(
            "Spend: $12.35 of the $100.00 daily limit (12.3 %).\nMonth to date: $120.00 of $2000.00 (6.0 %).\nSessions: 42, tool calls: 1234.\nTop clients: agent-a $5.00, agent-b $3.50.",
            report.Message);
        Assert.Equal(new Dictionary<string, string>
        {
            ["day"] = "2026-11-22", ["spend_usd"] = "12.35", ["daily_limit_usd"] = "100.00", ["month_to_date_usd"] = "120.00",
            ["monthly_limit_usd"] = "2000.00", ["sessions"] = "42", ["tool_calls"] = "1234",
        }, report.Details);
    }

    [Fact]
    public async Task Report_WhenTheSourceFails_SaysSo()
    {
        using var reporter = new DailyCostReporter(new FailingSource(), new RecordingSink(), new FixedOptions<AlertsOptions>(new AlertsOptions()), new FakeTimeProvider(Start), NullLogger<DailyCostReporter>.Instance);

        var report = await reporter.BuildAsync(new DateOnly(2026, 11, 22), TestContext.Current.CancellationToken);

        Assert.Equal("The cost figures for 2026-11-22 could not be read (InvalidOperationException).", report.Message);
    }

    [Theory]
    [InlineData("2026-11-23T10:00:00Z", "00:05:00", "2026-11-24T00:05:00Z")]
    [InlineData("2026-11-23T00:04:59Z", "00:05:00", "2026-11-23T00:05:00Z")]
    [InlineData("2026-11-23T00:05:00Z", "00:05:00", "2026-11-24T00:05:00Z")]
    [InlineData("2026-12-31T23:30:00Z", "23:00:00", "2027-01-01T23:00:00Z")]
    public void NextDue_IsTheNextTimeOfDayStrictlyAfterNow(string now, string at, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture),
            DailyCostReporter.NextDue(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture), TimeSpan.Parse(at, System.Globalization.CultureInfo.InvariantCulture)));

    private sealed class RecordingSink : IAlertSink
    {
        private readonly List<Alert> _alerts = [];

        public IReadOnlyList<Alert> Alerts
        {
            get
            {
                lock (_alerts)
                {
                    return [.. _alerts];
                }
            }
        }

        public Task RaiseAsync(Alert alert, CancellationToken cancellationToken = default)
        {
            lock (_alerts)
            {
                _alerts.Add(alert);
            }

            return Task.CompletedTask;
        }
    }

    private sealed class FixedSource(DailyCostReport report) : ICostReportSource
    {
        public Task<DailyCostReport?> GetDailyReportAsync(DateOnly day, CancellationToken cancellationToken = default) => Task.FromResult<DailyCostReport?>(report);
    }

    private sealed class FailingSource : ICostReportSource
    {
        public Task<DailyCostReport?> GetDailyReportAsync(DateOnly day, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("governance is down");
    }
}
