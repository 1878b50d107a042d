using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Interfaces.Errors;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// Turns Playwright's failures into the agent's codes and plain words: why a navigation failed (the guard's own
/// verdict when it stopped it, else Chromium's <c>net::ERR_…</c> in words), a crashed page, an ambiguous target.
/// A download is not a failure: the page's action treats it as a finished navigation. The first line of
/// Playwright's message is kept; its call log is not.
/// </summary>
public static partial class BrowserErrors
{
    private static readonly Dictionary<string, string> NetErrors = new(StringComparer.Ordinal)
    {
        ["ERR_NAME_NOT_RESOLVED"] = "the host name could not be resolved",
        ["ERR_NAME_RESOLUTION_FAILED"] = "the host name could not be resolved",
        ["ERR_CONNECTION_REFUSED"] = "the connection was refused",
        ["ERR_CONNECTION_RESET"] = "the connection was reset",
        ["ERR_CONNECTION_CLOSED"] = "the server closed the connection",
        ["ERR_EMPTY_RESPONSE"] = "the server closed the connection without answering",
        ["ERR_CONNECTION_TIMED_OUT"] = "the connection timed out",
        ["ERR_TIMED_OUT"] = "the request timed out",
        ["ERR_ADDRESS_UNREACHABLE"] = "the address is unreachable",
        ["ERR_TOO_MANY_REDIRECTS"] = "too many redirects",
        ["ERR_INVALID_RESPONSE"] = "the server sent an invalid response",
        ["ERR_INVALID_REDIRECT"] = "the server sent an invalid redirect",
        ["ERR_UNSAFE_REDIRECT"] = "the server redirected to a URL the browser may not open",
        ["ERR_SSL_PROTOCOL_ERROR"] = "the TLS handshake failed",
        ["ERR_BLOCKED_BY_CLIENT"] = "the request was blocked",
        ["ERR_BLOCKED_BY_RESPONSE"] = "the server's response headers forbid showing the page",
    };

    /// <summary>Whether a Playwright failure says the page's renderer process stopped.</summary>
    public static bool IsCrash(string message) =>
        message.Contains("Target crashed", StringComparison.Ordinal) || message.Contains("Page crashed", StringComparison.Ordinal);

    /// <summary>The agent-facing error for a Playwright failure during <paramref name="action"/>.</summary>
    public static AnchorException From(string action, string message, NetworkFailure? stopped)
    {
        var first = BrowserEngine.FirstLine(message);
        if (message.Contains("strict mode violation", StringComparison.Ordinal))
        {
            return new(ErrorCodes.InvalidArgument, $"invalid_argument: the target matches more than one element; take a new browser_snapshot and use a ref ({first}).");
        }

        if (IsCrash(message))
        {
            return new(ErrorCodes.BrowserError, $"browser_error: the page crashed during {action} (its renderer process stopped); the session continues on a fresh blank page.");
        }

        if (NetError().Match(message) is { Success: true } net)
        {
            if (stopped is not null)
            {
                return new(stopped.Code, stopped.Message);
            }

            var code = net.Groups["code"].Value;
            var why = NetErrors.GetValueOrDefault(code) ?? (code.StartsWith("ERR_CERT_", StringComparison.Ordinal) ? "the site's certificate is not valid" : "the request failed");
            return new(ErrorCodes.BrowserError, $"browser_error: {action} failed: {why} (net::{code}).");
        }

        return new(ErrorCodes.BrowserError, $"browser_error: {action} failed: {first}.");
    }

    [GeneratedRegex(@"net::(?<code>ERR_[A-Z0-9_]+)")]
    private static partial Regex NetError();
}
