using System.ComponentModel.DataAnnotations;

namespace Anchor.Orleans.Api.Auth;

/// <summary>API keys (<c>Anchor:Auth</c>). Each maps a bearer key, or its SHA-256, to a client id and a role.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    public List<ApiKeyOptions> ApiKeys { get; set; } = [];
}

/// <summary>One API key. Give <see cref="Key"/> or, better, <see cref="KeySha256"/> (hex) so the key itself is never stored.</summary>
public sealed class ApiKeyOptions
{
    [Required]
    public string ClientId { get; set; } = "";

    public string? Key { get; set; }

    public string? KeySha256 { get; set; }

    public ApiRole Role { get; set; } = ApiRole.Agent;
}
