using Anchor.Orleans.Grains.Timeline;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Recording;

/// <summary>
/// Traces of the embedded single-silo mode (Storage:Provider Memory): kept in this process for
/// <c>Console:TimelineHours</c> after their last chunk, at most <c>Recording:MaxMemoryBytes</c> in all (the traces
/// that expire first are dropped first). Lost with the process, as the rest of that mode's state is.
/// </summary>
public sealed class MemorySessionRecordings(
    IOptionsMonitor<RecordingOptions> options, IOptionsMonitor<TimelineOptions> timeline, TimeProvider time) : ISessionTraceStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _bytes;

    /// <summary>Bytes held now (all traces).</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    public Task SaveAsync(SessionTrace chunk, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            Prune(now);
            if (!_entries.TryGetValue(chunk.SessionId, out var entry))
            {
                _entries[chunk.SessionId] = entry = new Entry();
            }

            entry.Chunks.Add(chunk);
            entry.Bytes += chunk.Zip.LongLength;
            entry.ExpiresAt = now.AddHours(timeline.CurrentValue.TimelineHours);
            _bytes += chunk.Zip.LongLength;
            var max = options.CurrentValue.MaxMemoryBytes;
            foreach (var (id, _) in _entries.OrderBy(e => e.Value.ExpiresAt).ToList())
            {
                if (_bytes <= max)
                {
                    break;
                }

                Remove(id);
            }
        }

        return Task.CompletedTask;
    }

    public Task<SessionTrace?> ReadTraceAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        List<SessionTrace> chunks;
        lock (_gate)
        {
            Prune(time.GetUtcNow());
            chunks = _entries.TryGetValue(sessionId, out var entry) ? [.. entry.Chunks] : [];
        }

        return Task.FromResult(TraceChunks.Merged(sessionId, chunks));
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var id in _entries.Where(e => e.Value.ExpiresAt <= now).Select(e => e.Key).ToList())
        {
            Remove(id);
        }
    }

    private void Remove(string sessionId)
    {
        if (_entries.Remove(sessionId, out var entry))
        {
            _bytes -= entry.Bytes;
        }
    }

    private sealed class Entry
    {
        public List<SessionTrace> Chunks { get; } = [];

        public long Bytes { get; set; }

        public DateTimeOffset ExpiresAt { get; set; }
    }
}
