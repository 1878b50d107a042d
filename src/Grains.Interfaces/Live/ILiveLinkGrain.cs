namespace Anchor.Orleans.Grains.Interfaces.Live;

/// <summary>
/// One live link (key = hex SHA-256 of its token, so the token is stored nowhere). Persisted in the cluster's grain
/// storage, so any silo checks it. One-time to open: the first open binds it to a cookie (by its hash); later
/// checks need that cookie.
/// </summary>
public interface ILiveLinkGrain : IGrainWithStringKey
{
    /// <summary>Stores the minted link (once).</summary>
    Task CreateAsync(LiveLink link, CancellationToken cancellationToken = default);

    /// <summary>Opens the link for the first time, binding it to <paramref name="cookieHash"/>; refused when used, expired, revoked or unknown.</summary>
    Task<LiveLinkCheck> OpenAsync(string cookieHash, CancellationToken cancellationToken = default);

    /// <summary>Whether the holder of the cookie hashed to <paramref name="cookieHash"/> may still use the link.</summary>
    Task<LiveLinkCheck> CheckAsync(string cookieHash, CancellationToken cancellationToken = default);

    /// <summary>Revokes the link for good.</summary>
    Task RevokeAsync(CancellationToken cancellationToken = default);
}

/// <summary>The live links minted for one session (key = session id), so an operator can revoke them all.</summary>
public interface ILiveSessionLinksGrain : IGrainWithStringKey
{
    /// <summary>Remembers a minted link's grain key until <paramref name="expiresAt"/>.</summary>
    Task AddAsync(string linkKey, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Revokes every link of the session; answers how many were still live.</summary>
    Task<int> RevokeAllAsync(CancellationToken cancellationToken = default);
}
