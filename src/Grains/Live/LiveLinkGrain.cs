using Anchor.Orleans.Grains.Interfaces.Live;

namespace Anchor.Orleans.Grains.Live;

/// <summary>The stored side of one live link: what it grants, the hash of the cookie it was opened with, whether it was revoked.</summary>
[GenerateSerializer, Alias("anchor.LiveLinkState")]
public sealed class LiveLinkState
{
    [Id(0)]
    public LiveLink? Link { get; set; }

    [Id(1)]
    public string? CookieHash { get; set; }

    [Id(2)]
    public bool Revoked { get; set; }
}

/// <summary>
/// One live link (key = SHA-256 of its token). Checks are exact: a link opens once, before it expires, unless
/// revoked; afterwards only the cookie it was opened with (compared by hash) may use it, until it expires.
/// </summary>
public sealed class LiveLinkGrain(
    [PersistentState("live-link", Hosting.OrleansHostingExtensions.StorageName)] IPersistentState<LiveLinkState> state,
    TimeProvider time) : Grain, ILiveLinkGrain
{
    public async Task CreateAsync(LiveLink link, CancellationToken cancellationToken = default)
    {
        if (state.State.Link is not null)
        {
            throw new InvalidOperationException("A live link is created once.");
        }

        state.State.Link = link;
        await state.WriteStateAsync(cancellationToken);
    }

    public async Task<LiveLinkCheck> OpenAsync(string cookieHash, CancellationToken cancellationToken = default)
    {
        if (Refusal() is { } refused)
        {
            return new LiveLinkCheck(null, refused);
        }

        if (state.State.CookieHash is not null)
        {
            return new LiveLinkCheck(null, LiveLinkRefusal.Used);
        }

        state.State.CookieHash = cookieHash;
        await state.WriteStateAsync(cancellationToken);
        return new LiveLinkCheck(state.State.Link, null);
    }

    public Task<LiveLinkCheck> CheckAsync(string cookieHash, CancellationToken cancellationToken = default) =>
        Task.FromResult(Refusal() is { } refused
            ? new LiveLinkCheck(null, refused)
            : state.State.CookieHash is { } bound && CryptographicEquals(bound, cookieHash)
                ? new LiveLinkCheck(state.State.Link, null)
                : new LiveLinkCheck(null, LiveLinkRefusal.Used));

    public async Task RevokeAsync(CancellationToken cancellationToken = default)
    {
        if (state.State.Link is null || state.State.Revoked)
        {
            return;
        }

        state.State.Revoked = true;
        await state.WriteStateAsync(cancellationToken);
    }

    private LiveLinkRefusal? Refusal() => state.State switch
    {
        { Link: null } => LiveLinkRefusal.Unknown,
        { Revoked: true } => LiveLinkRefusal.Revoked,
        { Link.ExpiresAt: var at } when time.GetUtcNow() >= at => LiveLinkRefusal.Expired,
        _ => null,
    };

    private static bool CryptographicEquals(string a, string b) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(a), System.Text.Encoding.ASCII.GetBytes(b));
}
