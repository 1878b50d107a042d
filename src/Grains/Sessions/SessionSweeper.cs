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
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(options.CurrentValue.CleanupIntervalSeconds), time, stoppingToken);
                var overdue = await grains.GetGrain<ISessionRegistryGrain>(0).SweepAsync();
                await closer.CloseAsync(overdue, SessionEndReason.TimedOut);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogSweepFailed(logger, ex.GetType().Name);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session sweep failed: {Error}; retrying next interval")]
    private static partial void LogSweepFailed(ILogger logger, string error);
}
