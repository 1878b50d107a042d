using System.Security.Claims;
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

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) || header.Length == bearer.Length)
        {
            return Task.FromResult(AuthenticateResult.Fail("The Authorization header is not a bearer token."));
        }

        var caller = keys.Find(header[bearer.Length..].Trim());
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

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
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
