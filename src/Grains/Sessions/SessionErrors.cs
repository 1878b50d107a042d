using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Telemetry;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>What a call to a session is told when the session is not there for it.</summary>
internal static class SessionErrors
{
    public static AnchorException NotFound(string sessionId) =>
        new(ErrorCodes.SessionNotFound, $"session_not_found: no session '{sessionId}' for this client; create one with browser_session_create or omit session_id to use your default session.");

    /// <summary>What a call gets when its session was closed under it: the emergency refusal, or the end as a late call would see it.</summary>
    public static AnchorException Closed(string sessionId, string clientId, SessionEndReason reason, DateTimeOffset endedAt) => reason == SessionEndReason.Emergency
        ? new(ErrorCodes.EmergencyShutdown, $"emergency_shutdown: session '{sessionId}' was closed by the emergency shutdown during this call.")
        : Expired(new EndedSession(sessionId, clientId, reason, endedAt));

    public static AnchorException Expired(EndedSession ended) =>
        new(ErrorCodes.SessionExpired, $"session_expired: session '{ended.SessionId}' ended at {ended.EndedAt:O} ({AnchorMetrics.ReasonLabel(ended.Reason)}); create a new session.");
}
