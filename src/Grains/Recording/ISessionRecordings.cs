namespace Anchor.Orleans.Grains.Recording;

/// <summary>
/// Playwright traces of sessions whose client has <c>Anchor:Clients:&lt;id&gt;:Recording</c> = <c>trace</c>
/// (screenshots and DOM snapshots), kept with the session's timeline for <c>Console:TimelineHours</c>, size-capped,
/// readable by operators only (the console's session page, <c>GET /api/sessions/{id}/trace.zip</c>). Nothing is
/// recorded for a client whose recording is off.
/// </summary>
public interface ISessionRecordings
{
    /// <summary>The session's trace as a Playwright trace zip, or null when none was recorded (or it expired).</summary>
    Task<SessionTrace?> ReadTraceAsync(string sessionId, CancellationToken cancellationToken = default);
}

/// <summary>A recorded trace: the zip's bytes and whether the size cap cut it short.</summary>
public sealed record SessionTrace(string SessionId, string ClientId, byte[] Zip, bool Truncated, DateTimeOffset RecordedAt);
