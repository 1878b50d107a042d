using System.Diagnostics.Metrics;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.EmergencyStop;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Telemetry;

/// <summary>
/// Cluster-wide governance figures as metrics: <c>anchor_spend_usd_total{period}</c> (spend so far in the current
/// UTC day or month; it starts again at 0 with the next period), <c>anchor_budget_utilization_ratio{budget}</c>
/// ((spent + reserved) ÷ limit) and <c>anchor_emergency_shutdown_active</c> (this silo refuses work because of the
/// switch). Ledgers are grains, and metric callbacks cannot await, so the figures are read every few seconds.
/// </summary>
public sealed partial class GovernanceMetrics : BackgroundService
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    private readonly BudgetStatus _budgets;
    private readonly TimeProvider _time;
    private readonly ILogger<GovernanceMetrics> _logger;
    private BudgetOverview? _overview;

    public GovernanceMetrics(IMeterFactory meters, BudgetStatus budgets, EmergencyStopView emergency, TimeProvider time, ILogger<GovernanceMetrics> logger)
    {
        _budgets = budgets;
        _time = time;
        _logger = logger;
        var meter = meters.Create(AnchorMetrics.MeterName);
        meter.CreateObservableCounter("anchor.spend.usd", Spend, description: "Spend recorded in the current UTC day (period=daily) and month (period=monthly), in USD.");
        meter.CreateObservableGauge("anchor.budget.utilization.ratio", Utilization, description: "(Spent + reserved) ÷ limit of the daily and monthly budgets.");
        meter.CreateObservableGauge(
            "anchor.emergency.shutdown.active",
            () => emergency.State is { Tripped: true } ? 1 : 0,
            description: "1 while the emergency switch is on.");
    }

    private IEnumerable<Measurement<double>> Spend() => _overview is { } o
        ? [new((double)o.Daily.SpentUsd, new KeyValuePair<string, object?>("period", "daily")), new((double)o.Monthly.SpentUsd, new KeyValuePair<string, object?>("period", "monthly"))]
        : [];

    private IEnumerable<Measurement<double>> Utilization() => _overview is { } o
        ? [new((double)o.Daily.UtilizationPercent / 100, new KeyValuePair<string, object?>("budget", "daily")), new((double)o.Monthly.UtilizationPercent / 100, new KeyValuePair<string, object?>("budget", "monthly"))]
        : [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshInterval, _time);
        try
        {
            do
            {
                try
                {
                    _overview = await _budgets.GetOverviewAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // Keep the last figures; the next refresh tries again.
                    LogRefreshFailed(_logger, ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reading budget figures for metrics failed")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
