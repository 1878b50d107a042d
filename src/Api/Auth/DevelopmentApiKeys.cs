namespace Anchor.Orleans.Api.Auth;

/// <summary>
/// The documented keys that <c>appsettings.Development.json</c> ships. They are public by design, so Staging
/// and Production refuse to start with any key carrying the development prefix.
/// </summary>
public static class DevelopmentApiKeys
{
    public const string Prefix = "anchor-dev-";

    public const string Agent = "anchor-dev-agent-key";

    public const string Operator = "anchor-dev-operator-key";

    private static readonly HashSet<string> KnownHashes = new(StringComparer.OrdinalIgnoreCase)
    {
        ApiKeyHash.HexOf(Agent),
        ApiKeyHash.HexOf(Operator),
    };

    public static bool IsDevelopmentKey(ApiKeyOptions key) =>
        key.Key?.StartsWith(Prefix, StringComparison.Ordinal) == true
        || key.KeySha256 is not null && KnownHashes.Contains(key.KeySha256);
}
