using Anchor.Orleans.Grains.Interfaces.Alerts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Alerts.Rules;

/// <summary>
/// Raises what <see cref="AlertRules"/> decides, in order, through <see cref="IAlertSink"/>, and re-evaluates the
/// window every <c>Alerts:Rules:EvaluationIntervalSeconds</c> so rules also resolve when traffic stops.
/// </summary>
public sealed class AlertRulesWorker(AlertRules rules, IAlertSink sink, IOptionsMonitor<AlertsOptions> options, TimeProvider time) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(RaiseAsync(stoppingToken), EvaluateAsync(stoppingToken));

    private async Task RaiseAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var alert in rules.Transitions.ReadAllAsync(stoppingToken))
            {
                // The sink logs its own failures and never throws for them.
                await sink.RaiseAsync(alert, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task EvaluateAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval(), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                rules.Evaluate();

                // The interval is read every round, so a changed setting applies from the next evaluation.
                if (Interval() is var interval && interval != timer.Period)
                {
                    timer.Period = interval;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private TimeSpan Interval() => TimeSpan.FromSeconds(options.CurrentValue.Rules.EvaluationIntervalSeconds);
}
