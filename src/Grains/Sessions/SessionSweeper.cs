using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>
/// Asks the registry to sweep every <c>Sessions:CleanupIntervalSeconds</c> from every silo, so sweeps go on
/// whichever silo hosts the registry and whichever silos die. The registry coalesces the extra calls.
/// </summary>
public sealed partial class SessionSweeper(IGrainFactory grains, SessionCloser closer, IOptionsMonitor<SessionsOptions> options, TimeProvider time, ILogger<SessionSweeper> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval(), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var overdue = await grains.GetGrain<ISessionRegistryGrain>(0).SweepAsync();
                    await closer.CloseAsync(overdue, SessionEndReason.TimedOut);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LogSweepFailed(logger, ex);
                }

                // The interval is read every round, so a changed setting applies from the next sweep.
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

    private TimeSpan Interval() => TimeSpan.FromSeconds(options.CurrentValue.CleanupIntervalSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session sweep failed; retrying next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
