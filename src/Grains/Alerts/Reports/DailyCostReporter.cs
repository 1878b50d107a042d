using System.Globalization;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Alerts.Reports;

/// <summary>
/// Sends the daily cost report (INFO, key <c>report:daily:yyyy-MM-dd</c>, reports route) for the UTC day that ended,
/// at <c>Alerts:Reports:DailyAtUtc</c>. Every silo sends it; the alert grain keeps one per key (a report key is
/// suppressed for a day), so a silo that dies at the wrong moment does not cost the report.
/// </summary>
public sealed partial class DailyCostReporter(
    ICostReportSource source,
    IAlertSink sink,
    IOptionsMonitor<AlertsOptions> options,
    TimeProvider time,
    ILogger<DailyCostReporter> logger) : BackgroundService
{
    public const string KeyPrefix = "report:daily:";

    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    private DateTimeOffset _due;
    private long _waitingForTicks;

    /// <summary>The due time the reporter is waiting for, once its timer is set (null while it works or before it starts).</summary>
    public DateTimeOffset? WaitingFor => Interlocked.Read(ref _waitingForTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Fixed before the loop starts (which runs on the thread pool), so time that moves on meanwhile is not skipped.
        _due = NextDue(time.GetUtcNow(), options.CurrentValue.Reports.DailyAtUtc);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // One wait until the first due time; from there a timer ticks once a day, counted from it.
            var wait = _due - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                var first = Task.Delay(wait, time, stoppingToken);
                Interlocked.Exchange(ref _waitingForTicks, _due.UtcTicks);
                await first;
            }

            using var timer = new PeriodicTimer(Day, time);
            var start = time.GetUtcNow();
            var sent = 0;
            do
            {
                Interlocked.Exchange(ref _waitingForTicks, 0);

                // A tick may stand for several (ticks missed while a report was sent are folded into one): each day that
                // passed still gets its report, and its due time moves on from the last one, not from now.
                var days = Math.Max(sent + 1, (int)((time.GetUtcNow() - start) / Day) + 1);
                for (; sent < days; sent++)
                {
                    await ReportAsync(stoppingToken);
                    _due = _due.AddDays(1);
                }

                Interlocked.Exchange(ref _waitingForTicks, _due.UtcTicks);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ReportAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (options.CurrentValue.Reports.DailyEnabled)
            {
                await sink.RaiseAsync(await BuildAsync(DateOnly.FromDateTime(_due.UtcDateTime).AddDays(-1), stoppingToken), stoppingToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            LogReportFailed(logger, ex);
        }
    }

    /// <summary>The first <paramref name="atUtc"/> strictly after <paramref name="now"/>.</summary>
    public static DateTimeOffset NextDue(DateTimeOffset now, TimeSpan atUtc)
    {
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero) + atUtc;
        return today > now ? today : today.AddDays(1);
    }

    /// <summary>The report alert for <paramref name="day"/>; a failing source becomes a report that says so.</summary>
    public async Task<Alert> BuildAsync(DateOnly day, CancellationToken cancellationToken = default)
    {
        var dayText = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var key = KeyPrefix + dayText;
        var title = $"Daily cost report {dayText}";
        DailyCostReport? report;
        try
        {
            report = await source.GetDailyReportAsync(day, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogSourceFailed(logger, dayText, ex);
            return new Alert(AlertSeverity.Info, key, title, $"The cost figures for {dayText} could not be read ({ex.GetType().Name}).",
                time.GetUtcNow(), new Dictionary<string, string> { ["day"] = dayText });
        }

        if (report is null)
        {
            return new Alert(AlertSeverity.Info, key, title, $"No cost data for {dayText}.", time.GetUtcNow(),
                new Dictionary<string, string> { ["day"] = dayText });
        }

        var lines = new List<string>
        {
            $"Spend: {Usd(report.SpendUsd)} of the {Usd(report.DailyLimitUsd)} daily limit ({Percent(report.SpendUsd, report.DailyLimitUsd)}).",
            $"Month to date: {Usd(report.MonthToDateUsd)} of {Usd(report.MonthlyLimitUsd)} ({Percent(report.MonthToDateUsd, report.MonthlyLimitUsd)}).",
            string.Create(CultureInfo.InvariantCulture, $"Sessions: {report.Sessions}, tool calls: {report.ToolCalls}."),
        };
        if (report.TopClients.Count > 0)
        {
            lines.Add("Top clients: " + string.Join(", ", report.TopClients.Take(5).Select(c => $"{c.ClientId} {Usd(c.SpendUsd)}")) + ".");
        }

        return new Alert(AlertSeverity.Info, key, title, string.Join("\n", lines), time.GetUtcNow(), new Dictionary<string, string>
        {
            ["day"] = dayText,
            ["spend_usd"] = Amount(report.SpendUsd),
            ["daily_limit_usd"] = Amount(report.DailyLimitUsd),
            ["month_to_date_usd"] = Amount(report.MonthToDateUsd),
            ["monthly_limit_usd"] = Amount(report.MonthlyLimitUsd),
            ["sessions"] = report.Sessions.ToString(CultureInfo.InvariantCulture),
            ["tool_calls"] = report.ToolCalls.ToString(CultureInfo.InvariantCulture),
        });
    }

    private static string Amount(decimal usd) => usd.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Usd(decimal usd) => "$" + Amount(usd);

    private static string Percent(decimal part, decimal whole) =>
        whole <= 0 ? "n/a" : (part / whole * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Daily cost report failed; next one tomorrow")]
    private static partial void LogReportFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cost figures for {Day} could not be read")]
    private static partial void LogSourceFailed(ILogger logger, string day, Exception exception);
}
