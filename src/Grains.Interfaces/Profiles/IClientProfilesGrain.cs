namespace Anchor.Orleans.Grains.Interfaces.Profiles;

/// <summary>
/// One client's saved browser profiles (key = client id): a session's logins (cookies, localStorage) saved under a
/// name, encrypted at rest, visible to that client and to operators only. Sessions open from them.
/// </summary>
public interface IClientProfilesGrain : IGrainWithStringKey
{
    /// <summary>Saves (or replaces) <paramref name="name"/> from a Playwright storage state (JSON). Refused past the size and count bounds.</summary>
    Task<ProfileInfo> SaveAsync(string name, string storageState, CancellationToken cancellationToken = default);

    /// <summary>The storage state saved under <paramref name="name"/>, decrypted; null when there is none.</summary>
    Task<string?> LoadAsync(string name);

    Task<IReadOnlyList<ProfileInfo>> ListAsync();

    /// <summary>Deletes <paramref name="name"/>; false when there was none.</summary>
    Task<bool> DeleteAsync(string name);
}

/// <summary>A saved profile as its owner and operators see it: never its contents.</summary>
[GenerateSerializer, Immutable, Alias("anchor.ProfileInfo")]
public sealed record ProfileInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] string ClientId,
    [property: Id(2)] DateTimeOffset SavedAt,
    [property: Id(3)] int Bytes,
    [property: Id(4)] int Cookies,
    [property: Id(5)] int Origins);
