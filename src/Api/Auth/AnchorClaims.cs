using System.Security.Claims;

namespace Anchor.Orleans.Api.Auth;

/// <summary>Claims the API key handler issues, and how to read them back.</summary>
public static class AnchorClaims
{
    public const string ClientId = "anchor:client_id";

    public static string? GetClientId(this ClaimsPrincipal user) => user.FindFirst(ClientId)?.Value;
}

/// <summary>Authorization policies: <see cref="Agent"/> admits agents and operators, <see cref="Operator"/> only operators.</summary>
public static class AuthPolicies
{
    public const string Agent = "anchor:agent";
    public const string Operator = "anchor:operator";
}
