using System.Security.Cryptography;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Live;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>Why a pasted key did not sign in: unknown (or empty), or a key whose role is not Operator.</summary>
public enum ConsoleSignInRefusal
{
    UnknownKey,
    NotOperator,
}

/// <summary>
/// Exchanges an operator API key for a console sign-in and resolves the cookie that carries it. The cookie holds only
/// 256 random bits; the sign-in lives in a <see cref="IConsoleSessionGrain"/> keyed by their SHA-256. A sign-in stops
/// working once the key it was made with is no longer an operator key in <c>Anchor:Auth</c> (removed, or re-roled).
/// </summary>
public sealed class ConsoleSessions(IGrainFactory grains, ApiKeyStore keys, IOptionsMonitor<AuthOptions> auth, IOptionsMonitor<ConsoleOptions> options, TimeProvider time)
{
    /// <summary>The cookie; scoped to <c>/console</c>.</summary>
    public const string CookieName = "anchor_console";

    /// <summary>Signs in with <paramref name="presentedKey"/>: the new cookie value and who signed in, or why not.</summary>
    public async Task<(string? Cookie, ApiCaller? Caller, ConsoleSignInRefusal? Refusal)> SignInAsync(string? presentedKey, CancellationToken cancellationToken)
    {
        var key = presentedKey?.Trim();
        if (string.IsNullOrEmpty(key) || keys.Find(key) is not { } caller)
        {
            return (null, null, ConsoleSignInRefusal.UnknownKey);
        }

        if (caller.Role != ApiRole.Operator)
        {
            return (null, caller, ConsoleSignInRefusal.NotOperator);
        }

        var now = time.GetUtcNow();
        var cookie = LiveLinks.NewSecret();
        var signIn = new ConsoleSignIn(caller.ClientId, ApiKeyHash.HexOf(key), now, now.AddHours(options.CurrentValue.AbsoluteHours));
        await Grain(cookie).StartAsync(signIn, cancellationToken);
        return (cookie, caller, null);
    }

    /// <summary>The sign-in <paramref name="cookie"/> carries, if it is still valid and its key still an operator's.</summary>
    public async Task<ConsoleSignIn?> ResolveAsync(string? cookie, CancellationToken cancellationToken)
    {
        if (cookie is null || !LiveLinks.IsWellFormed(cookie))
        {
            return null;
        }

        var grain = Grain(cookie);
        if (await grain.TouchAsync(TimeSpan.FromMinutes(options.CurrentValue.IdleMinutes), cancellationToken) is not { } signIn)
        {
            return null;
        }

        if (!IsOperatorKey(signIn))
        {
            await grain.EndAsync(cancellationToken);
            return null;
        }

        return signIn;
    }

    /// <summary>Ends the sign-in <paramref name="cookie"/> carries (sign out).</summary>
    public Task SignOutAsync(string? cookie, CancellationToken cancellationToken) =>
        cookie is not null && LiveLinks.IsWellFormed(cookie) ? Grain(cookie).EndAsync(cancellationToken) : Task.CompletedTask;

    private IConsoleSessionGrain Grain(string cookie) => grains.GetGrain<IConsoleSessionGrain>(LiveLinks.Hash(cookie));

    /// <summary>
    /// Whether the key of <paramref name="signIn"/> is still configured as its client's operator key. Read from the
    /// options (as <see cref="ApiKeyStore"/> loads them) because the store answers by key, and the console keeps only its hash.
    /// </summary>
    private bool IsOperatorKey(ConsoleSignIn signIn)
    {
        if (!ApiKeyHash.TryParseHex(signIn.KeySha256, out var signedInWith))
        {
            return false;
        }

        var found = false;
        foreach (var configured in auth.CurrentValue.ApiKeys)
        {
            var hash = !string.IsNullOrEmpty(configured.Key) ? ApiKeyHash.Of(configured.Key)
                : ApiKeyHash.TryParseHex(configured.KeySha256, out var parsed) ? parsed
                : null;
            found |= hash is not null
                && configured.Role == ApiRole.Operator
                && configured.ClientId == signIn.ClientId
                && CryptographicOperations.FixedTimeEquals(hash, signedInWith);
        }

        return found;
    }
}
