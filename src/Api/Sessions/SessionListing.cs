using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Api.Sessions;

/// <summary>
/// Open sessions as the registry counts them, each with its live details when its grain answers promptly. The
/// details call interleaves with a running action; a grain that does not answer within <see cref="DetailsLimit"/>
/// (its silo is dying) is shown from its lease alone, so a listing never waits on a busy or lost session.
/// </summary>
public static class SessionListing
{
    public static readonly TimeSpan DetailsLimit = TimeSpan.FromSeconds(2);

    public static async Task<IReadOnlyList<SessionInfo>> ListAsync(IGrainFactory grains, string? clientId, CancellationToken cancellationToken = default)
    {
        var leases = await grains.GetGrain<ISessionRegistryGrain>(0).ListAsync(clientId);
        return await Task.WhenAll(leases.Select(lease => DetailsAsync(grains, lease, clientId, cancellationToken)));
    }

    private static async Task<SessionInfo> DetailsAsync(IGrainFactory grains, SessionLease lease, string? clientId, CancellationToken cancellationToken)
    {
        var fromLease = new SessionInfo(lease.SessionId, lease.ClientId, lease.Silo, lease.AcquiredAt, lease.ExpiresAt, lease.AcquiredAt, 0, 0m, null);
        try
        {
            return await grains.GetGrain<IBrowserSessionGrain>(lease.SessionId).GetInfoAsync(clientId).WaitAsync(DetailsLimit, cancellationToken) ?? fromLease;
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return fromLease;
        }
    }
}
