using System.Security.Cryptography;
using System.Text;
using Anchor.Orleans.Grains.Interfaces.Live;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Live;

/// <summary>A minted link: the URL (a credential: shown once, to whoever asked, never logged) and what it grants.</summary>
public sealed record MintedLink(string Url, DateTimeOffset ExpiresAt, LiveMode Mode, string LinkKey);

/// <summary>
/// Mints live links and turns tokens and cookies into grain keys. A token is 256 random bits; only its SHA-256 is
/// stored (as the key of its <see cref="ILiveLinkGrain"/>), so storage never holds a usable link.
/// </summary>
public sealed class LiveLinks(IGrainFactory grains, IOptionsMonitor<LiveOptions> options, TimeProvider time)
{
    public const string PathPrefix = "/live/";

    /// <summary>The cookie a first open sets; scoped to the link's own path.</summary>
    public const string CookieName = "anchor_live";

    /// <summary>A token or cookie value: 32 random bytes, base64url (43 characters).</summary>
    public static string NewSecret() => Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>The grain key of a token or cookie value: hex SHA-256.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Whether <paramref name="token"/> has the shape of a minted token (anything else is unknown without a grain call).</summary>
    public static bool IsWellFormed(string token) => token.Length == 43 && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>Mints a link to session <paramref name="sessionId"/> at <paramref name="request"/>'s own origin.</summary>
    public async Task<MintedLink> MintAsync(HttpRequest request, string sessionId, LiveMode mode, int? ttlSeconds, string mintedBy, string? handoffId, CancellationToken cancellationToken)
    {
        var ttl = TimeSpan.FromSeconds(ttlSeconds ?? options.CurrentValue.LinkSeconds);
        var expiresAt = time.GetUtcNow() + ttl;
        var token = NewSecret();
        var key = Hash(token);
        await grains.GetGrain<ILiveLinkGrain>(key).CreateAsync(new LiveLink(sessionId, mode, expiresAt, mintedBy, handoffId), cancellationToken);
        await grains.GetGrain<ILiveSessionLinksGrain>(sessionId).AddAsync(key, expiresAt, cancellationToken);
        return new MintedLink($"{request.Scheme}://{request.Host}{request.PathBase}{PathPrefix}{token}", expiresAt, mode, key);
    }

    /// <summary>Whether <paramref name="ttlSeconds"/> is allowed (null: the default).</summary>
    public bool AllowsTtl(int? ttlSeconds) => ttlSeconds is null || (ttlSeconds >= 1 && ttlSeconds <= options.CurrentValue.MaxLinkSeconds);

    public int MaxTtlSeconds => options.CurrentValue.MaxLinkSeconds;

    /// <summary>Masks a live link's token in <paramref name="text"/> (for anything that may log a request path).</summary>
    public static string Redact(string text)
    {
        var at = text.IndexOf(PathPrefix, StringComparison.Ordinal);
        while (at >= 0)
        {
            var start = at + PathPrefix.Length;
            var end = start;
            while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] is '-' or '_'))
            {
                end++;
            }

            if (end > start)
            {
                text = string.Concat(text.AsSpan(0, start), "[REDACTED]", text.AsSpan(end));
                end = start + "[REDACTED]".Length;
            }

            at = text.IndexOf(PathPrefix, end, StringComparison.Ordinal);
        }

        return text;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
