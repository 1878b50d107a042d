using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>
/// Closes sessions on the registry's behalf (emergency shutdown, overdue leases): each through its own grain,
/// which settles and releases its lease; those whose grain cannot be reached are force-ended in the registry so
/// no slot or reservation leaks. Runs outside the registry so the grains' call back to it cannot deadlock.
/// </summary>
public sealed partial class SessionCloser(IGrainFactory grains, AnchorMetrics metrics, ILogger<SessionCloser> logger)
{
    private ISessionRegistryGrain Registry => grains.GetGrain<ISessionRegistryGrain>(0);

    /// <summary>Closes every open session, or only those on <paramref name="silo"/>. Returns how many ended.</summary>
    public async Task<int> CloseAllAsync(SessionEndReason reason, string? silo = null)
    {
        var leases = (await Registry.ListAsync()).Where(l => silo is null || l.Silo == silo).ToList();
        return await CloseAsync(leases, reason);
    }

    public async Task<int> CloseAsync(IReadOnlyList<SessionLease> leases, SessionEndReason reason)
    {
        if (leases.Count == 0)
        {
            return 0;
        }

        var outcomes = await Task.WhenAll(leases.Select(async lease =>
        {
            try
            {
                await grains.GetGrain<IBrowserSessionGrain>(lease.SessionId).CloseAsync(null, reason);
                return (lease.SessionId, Ok: true);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogCloseFailed(logger, lease.SessionId, ex);
                return (lease.SessionId, Ok: false);
            }
        }));

        var failed = outcomes.Where(o => !o.Ok).Select(o => o.SessionId).ToList();
        // A grain that answered but holds no browser (another activation, a lost silo) leaves its lease: end those too.
        var remaining = (await Registry.ListAsync()).Select(l => l.SessionId).Intersect(leases.Select(l => l.SessionId)).ToList();
        var forced = await Registry.ForceEndAsync(remaining, reason);
        var succeeded = outcomes.Length - failed.Count;
        await Registry.ReportCleanupAsync(succeeded, failed.Count);
        for (var i = 0; i < failed.Count; i++)
        {
            metrics.Cleanup(success: false);
        }

        return succeeded + forced;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing session {SessionId} failed; its lease is ended and settled by the registry")]
    private static partial void LogCloseFailed(ILogger logger, string sessionId, Exception exception);
}
