namespace Anchor.Orleans.Grains.Timeline;

/// <summary>
/// What happened on each browser session, step by step, for operators: every tool call (time, tool, masked arguments,
/// outcome, duration, cost, page URL after) and the session's events (opened, restored, moved, handed off, closed and
/// why). Written where the facts are (the tool-call pipeline, the session grain), read by the console and the JSON
/// export; kept for <c>Console:TimelineHours</c> after the session's last entry, bounded per session. Redis in a
/// cluster, memory in the embedded single-silo mode. A write that fails is logged and dropped: the timeline never
/// fails the call it describes.
/// </summary>
public interface ISessionTimeline
{
    /// <summary>Appends one entry to <paramref name="sessionId"/>'s timeline (dropping the oldest past the bound).</summary>
    Task AppendAsync(string sessionId, TimelineEntry entry, CancellationToken cancellationToken = default);

    /// <summary>The session's timeline, oldest first, or null when none is kept (never written, or expired).</summary>
    Task<SessionTimelineView?> ReadAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Sessions with a kept timeline, most recent activity first, optionally of one client.</summary>
    Task<IReadOnlyList<TimelineSessionSummary>> RecentAsync(string? clientId, int limit, CancellationToken cancellationToken = default);
}

/// <summary>The kinds of <see cref="TimelineEntry"/>.</summary>
public static class TimelineEntryKinds
{
    /// <summary>A tool call on the session (<see cref="TimelineEntry.Name"/> is the tool).</summary>
    public const string Call = "call";

    /// <summary>A session event (<see cref="TimelineEntry.Name"/> is one of <see cref="TimelineEvents"/>).</summary>
    public const string Event = "event";
}

/// <summary>Session event names on a timeline.</summary>
public static class TimelineEvents
{
    public const string Opened = "opened";
    public const string Restored = "restored";
    public const string Moved = "moved";
    public const string LiveOpened = "live_opened";
    public const string ControlTaken = "control_taken";
    public const string ControlReleased = "control_released";
    public const string HandoffCompleted = "handoff_completed";
    public const string Closed = "closed";
}

/// <summary>
/// One step of a session. <see cref="CostUsd"/> is what was charged for it, the same number as on its receipt and in the
/// ledger: the timeline's costs of a closed session add up to what the ledger settled for it (a close not made by a
/// tool call carries the close's charge on its <see cref="TimelineEvents.Closed"/> event).
/// </summary>
/// <param name="At">When the step happened (a call: when it started).</param>
/// <param name="Kind">One of <see cref="TimelineEntryKinds"/>.</param>
/// <param name="Name">The tool (a call) or one of <see cref="TimelineEvents"/> (an event).</param>
/// <param name="ClientId">The client the session belongs to.</param>
/// <param name="Arguments">The call's arguments with secrets masked (typed text into password fields, tokens in URLs).</param>
/// <param name="Outcome">success, error, refused or cancelled for calls; for events, the reason or detail word.</param>
/// <param name="ErrorCode">The stable error code of a call that failed or was refused.</param>
/// <param name="DurationMs">How long a call took.</param>
/// <param name="CostUsd">What was charged for the step (see above).</param>
/// <param name="Url">The page URL after the step, when known (query secrets masked).</param>
/// <param name="Detail">Free text for an event (e.g. "silo A → silo B", "closed by operator").</param>
public sealed record TimelineEntry(
    DateTimeOffset At,
    string Kind,
    string Name,
    string ClientId,
    IReadOnlyDictionary<string, string?>? Arguments,
    string Outcome,
    string? ErrorCode,
    long? DurationMs,
    decimal CostUsd,
    string? Url,
    string? Detail)
{
    /// <summary>A session event: <paramref name="name"/> is one of <see cref="TimelineEvents"/>, <paramref name="outcome"/> its reason or detail word.</summary>
    public static TimelineEntry Event(DateTimeOffset at, string name, string clientId, string outcome, string? detail = null, decimal costUsd = 0m, string? url = null) =>
        new(at, TimelineEntryKinds.Event, name, clientId, null, outcome, null, null, costUsd, url, detail);

    /// <summary>Whether this entry says the session ended (<see cref="TimelineEvents.Closed"/>); true/false for events that open it again, null otherwise.</summary>
    internal bool? ClosesSession => Kind != TimelineEntryKinds.Event ? null : Name switch
    {
        TimelineEvents.Closed => true,
        TimelineEvents.Opened or TimelineEvents.Restored or TimelineEvents.Moved => false,
        _ => null,
    };
}

/// <summary>A session's kept timeline (oldest first) and its totals.</summary>
/// <param name="SessionId">The session.</param>
/// <param name="ClientId">The client the session belongs to.</param>
/// <param name="Entries">The kept entries, oldest first.</param>
/// <param name="Truncated">How many of the oldest entries were dropped to keep the bound.</param>
/// <param name="TotalCostUsd">The cost of every entry written, the dropped ones included.</param>
public sealed record SessionTimelineView(string SessionId, string ClientId, IReadOnlyList<TimelineEntry> Entries, int Truncated, decimal TotalCostUsd);

/// <summary>A session with a kept timeline, for lists of recent sessions (open or ended).</summary>
public sealed record TimelineSessionSummary(string SessionId, string ClientId, DateTimeOffset FirstAt, DateTimeOffset LastAt, int Entries, decimal TotalCostUsd, bool Closed);
