using System.ComponentModel.DataAnnotations;

namespace Anchor.Orleans.Grains.Timeline;

/// <summary>Session timelines (<c>Anchor:Console</c>): how long one is kept after its last entry, and how long it may grow.</summary>
public sealed class TimelineOptions
{
    public const string SectionName = "Console";

    /// <summary>Hours a session's timeline (and its recorded trace) is kept after its last entry.</summary>
    [Range(1, 24 * 90)]
    public int TimelineHours { get; set; } = 24;

    /// <summary>Entries kept per session; past it the oldest are dropped (and counted as truncated).</summary>
    [Range(10, 100_000)]
    public int MaxEntriesPerSession { get; set; } = 1_000;
}
