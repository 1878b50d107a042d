using Anchor.Orleans.Grains.Interfaces.Live;

namespace Anchor.Orleans.Grains.Live;

/// <summary>The links minted for one session, by link key and expiry; expired ones are forgotten as links are added.</summary>
[GenerateSerializer, Alias("anchor.LiveSessionLinksState")]
public sealed class LiveSessionLinksState
{
    [Id(0)]
    public Dictionary<string, DateTimeOffset> Links { get; set; } = [];
}

/// <summary>Revokes every live link of one session (key = session id) at an operator's word.</summary>
public sealed class LiveSessionLinksGrain(
    [PersistentState("live-session-links", Hosting.OrleansHostingExtensions.StorageName)] IPersistentState<LiveSessionLinksState> state,
    TimeProvider time) : Grain, ILiveSessionLinksGrain
{
    public async Task AddAsync(string linkKey, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        foreach (var expired in state.State.Links.Where(l => l.Value <= now).Select(l => l.Key).ToList())
        {
            state.State.Links.Remove(expired);
        }

        state.State.Links[linkKey] = expiresAt;
        await state.WriteStateAsync(cancellationToken);
    }

    public async Task<int> RevokeAllAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var live = state.State.Links.Where(l => l.Value > now).Select(l => l.Key).ToList();
        await Task.WhenAll(live.Select(key => GrainFactory.GetGrain<ILiveLinkGrain>(key).RevokeAsync(cancellationToken)));
        state.State.Links.Clear();
        await state.ClearStateAsync(cancellationToken);
        return live.Count;
    }
}
