using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Grains.Interfaces.Extraction;

/// <summary>
/// One cached extraction, cluster-wide (key = hash of url, item selector and fields): identical requests within
/// the TTL are answered without a browser.
/// </summary>
public interface IExtractCacheGrain : IGrainWithStringKey
{
    Task<ExtractResult?> GetAsync();

    Task SetAsync(ExtractResult result, TimeSpan timeToLive);
}
