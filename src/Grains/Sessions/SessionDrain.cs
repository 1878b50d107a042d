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

    /// <summary>
    /// How long a stopping silo takes to move its sessions (each waits for its running action, then is checkpointed) or,
    /// with <see cref="MoveSessions"/> off, lets them finish; what is left then is closed and settled.
    /// </summary>
    [Range(0, 3_600)]
    public int DrainSeconds { get; set; } = 30;

    /// <summary>
    /// Whether a stopping silo moves its sessions (checkpointed, parked, restored at their next call on another silo, or
    /// on this one after a restart) instead of waiting for them to end and then closing them. Unset: moved when grain
    /// storage is Redis (checkpoints outlive the process); with in-memory storage there is nowhere to move them to.
    /// </summary>
    public bool? MoveSessions { get; set; }
}

/// <summary>
/// Drains this silo when the host stops (SIGTERM): from that moment readiness fails and no session opens here.
/// Open sessions are moved (<c>Shutdown:MoveSessions</c>): each lets its running action finish, writes a checkpoint and
/// parks its lease, and its next call restores it on another silo. Within <c>Shutdown:DrainSeconds</c>; whatever did not
/// move is closed and settled (reason drained) before Orleans leaves the cluster and the browser is closed.
/// </summary>
public sealed partial class SessionDrain(
    LocalSessions local,
    IGrainFactory grains,
    IOptions<ShutdownOptions> options,
    IOptions<Hosting.AnchorHostingOptions> hosting,
    IOptionsMonitor<SessionsOptions> sessions,
    TimeProvider time,
    ILogger<SessionDrain> logger) : IHostedLifecycleService
{
    /// <summary>The least time a session gets to move (checkpoint, park), whatever <c>Shutdown:DrainSeconds</c> says.</summary>
    public static readonly TimeSpan MoveFloor = TimeSpan.FromSeconds(5);

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
        var moved = 0;
        var move = options.Value.MoveSessions ?? (hosting.Value.Storage.Provider == Hosting.StorageProvider.Redis && sessions.CurrentValue.Checkpoints);
        try
        {
            if (move)
            {
                // Moving is tried at least once, even with no drain time: a session between actions moves in well under
                // a second, and each move may take MoveFloor whatever DrainSeconds says.
                for (var round = 0; local.Count > 0 && (time.GetUtcNow() < deadline || round == 0); round++)
                {
                    // Again while any moves: a call that raced the drain may have activated a session here meanwhile.
                    var limit = deadline - time.GetUtcNow();
                    var outcomes = await Task.WhenAll(local.SessionIds.Select(id => MoveAsync(id, limit > MoveFloor ? limit : MoveFloor, cancellationToken)));
                    moved += outcomes.Count(m => m);
                    if (!outcomes.Any(m => m))
                    {
                        break;
                    }
                }
            }
            else
            {
                // Sessions finish on their own; look every 200 ms whether they have.
                using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(200), time);
                while (local.Count > 0 && time.GetUtcNow() < deadline && await poll.WaitForNextTickAsync(cancellationToken))
                {
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout came first: close what is left now.
        }

        if (moved > 0)
        {
            LogMoved(logger, moved);
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
                LogCloseFailed(logger, id, ex);
            }
        }));
        LogDrained(logger, remaining.Count);
    }

    /// <summary>Suspends one session for a move, within <paramref name="limit"/>; false when it did not move (it is then closed).</summary>
    private async Task<bool> MoveAsync(string sessionId, TimeSpan limit, CancellationToken cancellationToken)
    {
        try
        {
            return await grains.GetGrain<IBrowserSessionGrain>(sessionId).SuspendAsync().WaitAsync(limit > TimeSpan.Zero ? limit : TimeSpan.Zero, time, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCloseFailed(logger, sessionId, ex);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Drain: moved {Moved} session(s) off this silo; their next calls restore them elsewhere")]
    private static partial void LogMoved(ILogger logger, int moved);

    [LoggerMessage(Level = LogLevel.Information, Message = "Draining: {Open} session(s) open, up to {Seconds} s to move or finish")]
    private static partial void LogDraining(ILogger logger, int open, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drain done: closed and settled {Closed} remaining session(s)")]
    private static partial void LogDrained(ILogger logger, int closed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Draining session {SessionId} failed")]
    private static partial void LogCloseFailed(ILogger logger, string sessionId, Exception exception);
}
