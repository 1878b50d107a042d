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
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var wait = _due - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    var delay = Task.Delay(wait, time, stoppingToken);
                    Interlocked.Exchange(ref _waitingForTicks, _due.UtcTicks);
                    await delay;
                    Interlocked.Exchange(ref _waitingForTicks, 0);
                }

                if (options.CurrentValue.Reports.DailyEnabled)
                {
                    await sink.RaiseAsync(await BuildAsync(DateOnly.FromDateTime(_due.UtcDateTime).AddDays(-1), stoppingToken), stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogReportFailed(logger, ex.GetType().Name);
            }

            // From the last due time, not from now: each day gets its report even if the loop ran late.
            _due = _due.AddDays(1);
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
            LogSourceFailed(logger, dayText, ex.GetType().Name);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Daily cost report failed: {Error}; next one tomorrow")]
    private static partial void LogReportFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cost figures for {Day} could not be read: {Error}")]
    private static partial void LogSourceFailed(ILogger logger, string day, string error);
}
