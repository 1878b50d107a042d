using System.Security.Cryptography;
using System.Text;

namespace Anchor.Orleans.Api.Auth;

/// <summary>SHA-256 of API keys: keys are compared and remembered only as hashes.</summary>
public static class ApiKeyHash
{
    public static byte[] Of(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static string HexOf(string key) => Convert.ToHexStringLower(Of(key));

    public static bool TryParseHex(string? hex, out byte[] hash)
    {
        hash = [];
        if (hex is not { Length: 64 })
        {
            return false;
        }

        try
        {
            hash = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
