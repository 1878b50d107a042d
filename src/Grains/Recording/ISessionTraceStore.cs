namespace Anchor.Orleans.Grains.Recording;

/// <summary>
/// Where traces are kept: one session may leave several chunks (one per silo that held it), read back merged.
/// Kept for <c>Console:TimelineHours</c> after the last chunk.
/// </summary>
public interface ISessionTraceStore : ISessionRecordings
{
    /// <summary>Adds one chunk (already capped) of the session's trace.</summary>
    Task SaveAsync(SessionTrace chunk, CancellationToken cancellationToken = default);
}

/// <summary>Reads stored chunks back as one trace.</summary>
internal static class TraceChunks
{
    public static SessionTrace? Merged(string sessionId, IReadOnlyList<SessionTrace> chunks) => chunks.Count == 0
        ? null
        : new SessionTrace(
            sessionId,
            chunks[0].ClientId,
            TraceZip.Merge([.. chunks.Select(c => c.Zip)]),
            chunks.Any(c => c.Truncated),
            chunks.Max(c => c.RecordedAt));
}
