using Anchor.Orleans.Grains.Interfaces.Extraction;
using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Grains.Extraction;

/// <summary>Holds one extraction result in memory until its TTL passes; a lost entry only costs a fresh extraction.</summary>
public sealed class ExtractCacheGrain(TimeProvider time) : Grain, IExtractCacheGrain
{
    private ExtractResult? _result;
    private DateTimeOffset _expiresAt;

    public Task<ExtractResult?> GetAsync()
    {
        if (_result is not null && time.GetUtcNow() >= _expiresAt)
        {
            _result = null;
            DeactivateOnIdle();
        }

        return Task.FromResult(_result);
    }

    public Task SetAsync(ExtractResult result, TimeSpan timeToLive)
    {
        _result = result with { Cached = false };
        _expiresAt = time.GetUtcNow() + timeToLive;
        // Stay no longer than the entry is worth keeping.
        DelayDeactivation(timeToLive);
        return Task.CompletedTask;
    }
}
