using System.ComponentModel.DataAnnotations;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>Graceful shutdown (<c>Anchor:Shutdown</c>).</summary>
public sealed class ShutdownOptions
{
    public const string SectionName = "Shutdown";

    /// <summary>How long a stopping silo lets its open sessions finish before it closes and settles them.</summary>
    [Range(0, 3_600)]
    public int DrainSeconds { get; set; } = 30;
}

/// <summary>
/// Drains this silo when the host stops (SIGTERM): from that moment readiness fails and no session opens here;
/// open sessions get up to <c>Shutdown:DrainSeconds</c> to finish, then the rest are closed and settled
/// (reason drained) before Orleans leaves the cluster and the browser is closed.
/// </summary>
public sealed partial class SessionDrain(
    LocalSessions local,
    IGrainFactory grains,
    IOptions<ShutdownOptions> options,
    TimeProvider time,
    ILogger<SessionDrain> logger) : IHostedLifecycleService
{
    public bool IsDraining { get; private set; }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs before any hosted service stops, so the HTTP front still answers (readiness 503, calls to sessions
    /// that are finishing) and Orleans still reaches grains while sessions drain.
    /// </summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        IsDraining = true;
        local.StopAccepting();
        var grace = TimeSpan.FromSeconds(options.Value.DrainSeconds);
        LogDraining(logger, local.Count, grace.TotalSeconds);

        var deadline = time.GetUtcNow() + grace;
        try
        {
            while (local.Count > 0 && time.GetUtcNow() < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout came first: close what is left now.
        }

        var remaining = local.SessionIds;
        await Task.WhenAll(remaining.Select(async id =>
        {
            try
            {
                await grains.GetGrain<IBrowserSessionGrain>(id).CloseAsync(null, SessionEndReason.Drained);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogCloseFailed(logger, id, ex.GetType().Name);
            }
        }));
        LogDrained(logger, remaining.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Draining: {Open} session(s) open, up to {Seconds} s to finish")]
    private static partial void LogDraining(ILogger logger, int open, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drain done: closed and settled {Closed} remaining session(s)")]
    private static partial void LogDrained(ILogger logger, int closed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Draining session {SessionId} failed: {Error}")]
    private static partial void LogCloseFailed(ILogger logger, string sessionId, string error);
}
