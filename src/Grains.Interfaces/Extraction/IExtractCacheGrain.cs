using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Grains.Interfaces.Extraction;

/// <summary>
/// One cached extraction of one client, cluster-wide (key = hash of client id, url, item selector and fields): a client's identical requests within
/// the TTL are answered without a browser.
/// </summary>
public interface IExtractCacheGrain : IGrainWithStringKey
{
    Task<ExtractResult?> GetAsync();

    Task SetAsync(ExtractResult result, TimeSpan timeToLive);
}
