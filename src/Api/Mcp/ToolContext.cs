using System.Security.Claims;
using System.Text.RegularExpressions;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Grains.Interfaces.Errors;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>Who is calling a tool and which browser session a call addresses.</summary>
public static partial class ToolContext
{
    public static string ClientIdOf(ClaimsPrincipal? user) =>
        user?.GetClientId() ?? throw new AnchorException(ErrorCodes.InvalidArgument, "the caller has no client identity.");

    /// <summary>The client's default session: the one a call without <c>session_id</c> uses, opened on first use.</summary>
    public static string DefaultSessionId(string clientId) => $"default-{clientId}";

    public static string NewSessionId() => $"s-{Guid.NewGuid():N}";

    /// <summary>The session a call addresses: the given id (validated) or the client's default session.</summary>
    public static (string SessionId, bool IsDefault) Resolve(string? sessionId, string clientId)
    {
        if (string.IsNullOrWhiteSpace(sessionId))
        {
            return (DefaultSessionId(clientId), true);
        }

        return SessionIdPattern().IsMatch(sessionId)
            ? (sessionId, sessionId == DefaultSessionId(clientId))
            : throw new AnchorException(ErrorCodes.InvalidArgument, $"session_id '{sessionId}' is not a session id (letters, digits, '.', '_', '-'; at most 100).");
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex SessionIdPattern();
}
