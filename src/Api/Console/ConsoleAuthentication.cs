using System.Security.Claims;
using System.Text.Encodings.Web;
using Anchor.Orleans.Api.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>
/// The console's own scheme: its sign-in cookie, resolved through <see cref="ConsoleSessions"/>. Only the console's
/// policy names it, so a console cookie never authenticates <c>/api/*</c> or <c>/mcp</c> (they use the API key scheme);
/// a request without a valid sign-in is sent to the sign-in page.
/// </summary>
public sealed class ConsoleAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ConsoleSessions sessions)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Console";

    /// <summary>The console's authorization policy: an operator signed in to the console.</summary>
    public const string PolicyName = "anchor:console";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var cookie = Request.Cookies[ConsoleSessions.CookieName];
        if (string.IsNullOrEmpty(cookie))
        {
            return AuthenticateResult.NoResult();
        }

        if (await sessions.ResolveAsync(cookie, Context.RequestAborted) is not { } signIn)
        {
            return AuthenticateResult.Fail("The console sign-in has ended.");
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(AnchorClaims.ClientId, signIn.ClientId),
                new Claim(ClaimTypes.NameIdentifier, signIn.ClientId),
                new Claim(ClaimTypes.Role, nameof(ApiRole.Operator)),
            ],
            SchemeName,
            AnchorClaims.ClientId,
            ClaimTypes.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status303SeeOther;
        Response.Headers.Location = ConsolePaths.SignIn;
        Response.Headers.CacheControl = "no-store";
        return Task.CompletedTask;
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    }
}
