using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Auth;

/// <summary>Every key is well formed and unique; Staging and Production need keys and refuse the development ones.</summary>
public sealed partial class AuthOptionsValidator(IHostEnvironment environment) : IValidateOptions<AuthOptions>
{
    /// <summary>Shortest accepted key: a guessable key is no key.</summary>
    public const int MinimumKeyLength = 16;

    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        var production = !environment.IsDevelopment();
        if (production && options.ApiKeys.Count == 0)
        {
            failures.Add($"Anchor:Auth:ApiKeys is empty: {environment.EnvironmentName} needs at least one API key.");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            var key = options.ApiKeys[i];
            var at = $"Anchor:Auth:ApiKeys:{i}";
            if (!ClientIdPattern().IsMatch(key.ClientId ?? ""))
            {
                failures.Add($"{at}:ClientId must be 1-64 characters of letters, digits, '.', '_' or '-' (got '{key.ClientId}').");
            }

            if (!Enum.IsDefined(key.Role))
            {
                failures.Add($"{at}:Role must be Agent or Operator.");
            }

            var hasKey = !string.IsNullOrEmpty(key.Key);
            var hasHash = !string.IsNullOrEmpty(key.KeySha256);
            string? hash = null;
            if (hasKey == hasHash)
            {
                failures.Add($"{at} must set exactly one of Key or KeySha256.");
            }
            else if (hasKey && key.Key!.Length < MinimumKeyLength)
            {
                failures.Add($"{at}:Key is shorter than {MinimumKeyLength} characters.");
            }
            else if (hasHash && !ApiKeyHash.TryParseHex(key.KeySha256, out _))
            {
                failures.Add($"{at}:KeySha256 must be 64 hexadecimal characters (the SHA-256 of the key).");
            }
            else
            {
                hash = hasKey ? ApiKeyHash.HexOf(key.Key!) : key.KeySha256!;
            }

            if (hash is not null && !seen.Add(hash))
            {
                failures.Add($"{at} repeats a key given earlier in the list.");
            }

            if (production && DevelopmentApiKeys.IsDevelopmentKey(key))
            {
                failures.Add($"{at} is a published development key: {environment.EnvironmentName} refuses it. Generate a new key.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex ClientIdPattern();
}
