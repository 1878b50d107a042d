using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Timeline;

/// <summary>
/// <see cref="ISessionTimeline"/> in this process's memory, for the embedded single-silo mode (in-memory storage, which
/// dies with the process too). Bounded like the Redis one: <see cref="TimelineOptions.MaxEntriesPerSession"/> entries per
/// session, kept <see cref="TimelineOptions.TimelineHours"/> after the last entry (on the injected clock), and at most
/// <see cref="MaxSessions"/> sessions (the least recently active go first).
/// </summary>
public sealed class MemorySessionTimeline(TimeProvider time, IOptionsMonitor<TimelineOptions> options) : ISessionTimeline
{
    /// <summary>Sessions kept at most, whatever their age: a flood of short sessions cannot grow the silo's memory without bound.</summary>
    public const int MaxSessions = 10_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Kept> _sessions = new(StringComparer.Ordinal);

    public Task AppendAsync(string sessionId, TimelineEntry entry, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var limits = options.CurrentValue;
        lock (_gate)
        {
            Expire(now);
            if (!_sessions.TryGetValue(sessionId, out var kept))
            {
                if (_sessions.Count >= MaxSessions)
                {
                    _sessions.Remove(_sessions.MinBy(s => s.Value.ExpiresAt).Key);
                }

                kept = _sessions[sessionId] = new Kept(entry.ClientId, entry.At);
            }

            kept.Add(entry, limits.MaxEntriesPerSession, now + TimeSpan.FromHours(limits.TimelineHours));
        }

        return Task.CompletedTask;
    }

    public Task<SessionTimelineView?> ReadAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            Expire(now);
            return Task.FromResult(_sessions.TryGetValue(sessionId, out var kept)
                ? new SessionTimelineView(sessionId, kept.ClientId, TimelineOrder.Sorted(kept.Entries), kept.Truncated, kept.TotalCostUsd)
                : null);
        }
    }

    public Task<IReadOnlyList<TimelineSessionSummary>> RecentAsync(string? clientId, int limit, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            Expire(now);
            IReadOnlyList<TimelineSessionSummary> recent = [.. _sessions
                .Where(s => clientId is null || s.Value.ClientId == clientId)
                .OrderByDescending(s => s.Value.ExpiresAt)
                .Take(Math.Max(0, limit))
                .Select(s => s.Value.Summary(s.Key))];
            return Task.FromResult(recent);
        }
    }

    private void Expire(DateTimeOffset now)
    {
        foreach (var (id, kept) in _sessions)
        {
            if (kept.ExpiresAt <= now)
            {
                _sessions.Remove(id); // Removing while enumerating a Dictionary is allowed since .NET Core 3.0.
            }
        }
    }

    private sealed class Kept(string clientId, DateTimeOffset firstAt)
    {
        public string ClientId => clientId;

        public Queue<TimelineEntry> Entries { get; } = new();

        public DateTimeOffset FirstAt => firstAt;

        public int Truncated { get; private set; }

        public decimal TotalCostUsd { get; private set; }

        public DateTimeOffset LastAt { get; private set; } = DateTimeOffset.MinValue;

        public DateTimeOffset ExpiresAt { get; private set; }

        public bool Closed { get; private set; }

        public void Add(TimelineEntry entry, int max, DateTimeOffset expiresAt)
        {
            Entries.Enqueue(entry);
            while (Entries.Count > max)
            {
                Entries.Dequeue();
                Truncated++;
            }

            TotalCostUsd += entry.CostUsd;
            LastAt = entry.At > LastAt ? entry.At : LastAt;
            ExpiresAt = expiresAt;
            Closed = entry.ClosesSession ?? Closed;
        }

        public TimelineSessionSummary Summary(string sessionId) =>
            new(sessionId, ClientId, FirstAt, LastAt, Entries.Count, TotalCostUsd, Closed);
    }
}

/// <summary>The order a timeline is read in: by time, stable (entries written by several silos arrive in any order).</summary>
internal static class TimelineOrder
{
    public static IReadOnlyList<TimelineEntry> Sorted(IEnumerable<TimelineEntry> entries) => [.. entries.OrderBy(e => e.At)];
}
