using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Auth;

/// <summary>A caller the service knows: who (client id) and what it may do (role).</summary>
public sealed record ApiCaller(string ClientId, ApiRole Role);

/// <summary>
/// Resolves a presented bearer key to its caller. Keys are held only as SHA-256 hashes and compared in
/// constant time against every configured hash, so timing reveals neither which key nor how much matched.
/// Follows configuration reloads, so keys rotate without a restart.
/// </summary>
public sealed class ApiKeyStore
{
    private volatile Entry[] _entries = [];

    public ApiKeyStore(IOptionsMonitor<AuthOptions> options)
    {
        Load(options.CurrentValue);
        options.OnChange(Load);
    }

    public ApiCaller? Find(string presentedKey)
    {
        var presented = ApiKeyHash.Of(presentedKey);
        ApiCaller? match = null;
        foreach (var entry in _entries)
        {
            // No early exit: every entry is compared whatever matched.
            if (CryptographicOperations.FixedTimeEquals(presented, entry.Hash))
            {
                match = entry.Caller;
            }
        }

        return match;
    }

    private void Load(AuthOptions options) =>
        _entries = options.ApiKeys
            .Select(k => (k, hash: Hash(k)))
            .Where(x => x.hash is not null)
            .Select(x => new Entry(x.hash!, new ApiCaller(x.k.ClientId, x.k.Role)))
            .ToArray();

    private static byte[]? Hash(ApiKeyOptions key) =>
        !string.IsNullOrEmpty(key.Key) ? ApiKeyHash.Of(key.Key)
        : ApiKeyHash.TryParseHex(key.KeySha256, out var hash) ? hash
        : null;

    private sealed record Entry(byte[] Hash, ApiCaller Caller);
}
