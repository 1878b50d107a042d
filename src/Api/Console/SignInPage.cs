using Anchor.Orleans.Api.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>
/// Sign in by pasting an operator API key, exchanged for a console sign-in whose cookie carries only a random id; sign
/// out ends it on the server. An agent key is refused saying so; a wrong key is refused saying nothing more.
/// </summary>
public static partial class SignInPage
{
    public static IResult Page(HttpContext http) => Render(http, null, StatusCodes.Status200OK);

    public static async Task<IResult> SignInAsync(HttpContext http, ConsoleSessions sessions, ILogger<ConsoleSessions> logger, CancellationToken cancellationToken)
    {
        var form = await http.Request.ReadFormAsync(cancellationToken);
        var (cookie, caller, refusal) = await sessions.SignInAsync(form["api_key"], cancellationToken);
        switch (refusal)
        {
            case ConsoleSignInRefusal.UnknownKey:
                LogRefused(logger, "unknown key");
                return Render(http, "That key is not valid.", StatusCodes.Status401Unauthorized);
            case ConsoleSignInRefusal.NotOperator:
                LogRefused(logger, "agent key");
                return Render(http, "That is an agent key: the console needs an operator key.", StatusCodes.Status403Forbidden);
        }

        http.Response.Cookies.Append(ConsoleSessions.CookieName, cookie!, CookieOptions(http));
        LogSignedIn(logger, caller!.ClientId);
        return TypedResults.Redirect(ConsolePaths.Root);
    }

    public static async Task<IResult> SignOutAsync(HttpContext http, ConsoleSessions sessions, ILogger<ConsoleSessions> logger, CancellationToken cancellationToken)
    {
        await sessions.SignOutAsync(http.Request.Cookies[ConsoleSessions.CookieName], cancellationToken);
        http.Response.Cookies.Delete(ConsoleSessions.CookieName, CookieOptions(http));
        LogSignedOut(logger, http.User.GetClientId() ?? "unknown");
        return TypedResults.Redirect(ConsolePaths.SignIn);
    }

    private static CookieOptions CookieOptions(HttpContext http) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = http.Request.IsHttps,
        Path = ConsolePaths.Root,
        IsEssential = true,
    };

    private static IResult Render(HttpContext http, string? error, int status)
    {
        var header = Html.Of($"""<header class="top"><span class="brand">Anchor console</span></header>""");
        return ConsoleLayout.Document(http, "Sign in", header, Html.Of($"""
            <div class="signin">
              {ConsoleLayout.Notice(error, error: true)}
              <form method="post" action="{ConsolePaths.SignIn}">{ConsoleLayout.Token(http)}
                <label for="api_key">Operator API key</label>
                <input type="password" id="api_key" name="api_key" required autocomplete="off" spellcheck="false" aria-describedby="key-help">
                <p id="key-help" class="muted">Only its hash is kept, to end the sign-in if the key is removed. A cookie keeps you signed in until you sign out or stay idle.</p>
                <button type="submit">Sign in</button>
              </form>
            </div>
            """), status);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: console sign-in by {ClientId}")]
    private static partial void LogSignedIn(ILogger logger, string clientId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit: console sign-in refused ({Why})")]
    private static partial void LogRefused(ILogger logger, string why);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: console sign-out by {ClientId}")]
    private static partial void LogSignedOut(ILogger logger, string clientId);
}
