using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Auth;

/// <summary>
/// <c>Authorization: Bearer &lt;api key&gt;</c>. Answers 401 and 403 as problem details. The presented key is
/// never logged, not even when it is wrong.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    /// <summary>The Orleans dashboard: browsers are offered Basic auth there (any user name, the API key as password).</summary>
    public const string DashboardPath = "/dashboard";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var presented = PresentedKey(header);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("The Authorization header carries no API key."));
        }

        var caller = keys.Find(presented);
        if (caller is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("The API key is not known."));
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(AnchorClaims.ClientId, caller.ClientId),
                // The MCP SDK binds legacy SSE transport sessions to this identity.
                new Claim(ClaimTypes.NameIdentifier, caller.ClientId),
                new Claim(ClaimTypes.Role, caller.Role.ToString()),
            ],
            SchemeName,
            AnchorClaims.ClientId,
            ClaimTypes.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    /// <summary>
    /// The key from <c>Bearer &lt;key&gt;</c>, or from <c>Basic</c> credentials whose password is the key: browsers
    /// can only send the latter, and operators open the dashboard in a browser.
    /// </summary>
    private static string? PresentedKey(string header)
    {
        const string bearer = "Bearer ";
        const string basic = "Basic ";
        if (header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            return header[bearer.Length..].Trim() is { Length: > 0 } key ? key : null;
        }

        if (header.StartsWith(basic, StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[basic.Length..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                return colon >= 0 && colon < decoded.Length - 1 ? decoded[(colon + 1)..] : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = Request.Path.StartsWithSegments(DashboardPath)
            ? new Microsoft.Extensions.Primitives.StringValues(["Bearer", "Basic realm=\"Anchor.Orleans dashboard\""])
            : "Bearer";
        var missing = string.IsNullOrEmpty(Request.Headers.Authorization.ToString());
        await ProblemResponses.WriteAsync(
            Context,
            ErrorCodes.Unauthorized,
            StatusCodes.Status401Unauthorized,
            missing ? "An API key is required: send Authorization: Bearer <key>." : "The API key is not valid.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ProblemResponses.WriteAsync(
            Context,
            ErrorCodes.Forbidden,
            StatusCodes.Status403Forbidden,
            "This API key's role may not use this endpoint.");
}
