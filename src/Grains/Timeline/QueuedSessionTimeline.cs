using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Timeline;

/// <summary>
/// The <see cref="ISessionTimeline"/> the service writes through: <see cref="AppendAsync"/> only queues the entry
/// (bounded, <see cref="Capacity"/>; a full queue drops the entry) and answers at once, so no tool call or grain waits
/// on Redis; one writer per silo stores the entries in order, each write bounded by <see cref="WriteLimit"/>. A write
/// that fails is dropped and logged (the first of a run at once, then at most one line a minute with how many were
/// dropped). Reads go straight to the store. Stopping writes what is queued (within the host's stop time).
/// </summary>
public sealed partial class QueuedSessionTimeline(ISessionTimeline store, TimeProvider time, ILogger<QueuedSessionTimeline> logger)
    : BackgroundService, ISessionTimeline
{
    public const int Capacity = 10_000;

    public static readonly TimeSpan WriteLimit = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan LogEvery = TimeSpan.FromMinutes(1);

    private readonly Channel<(string SessionId, TimelineEntry Entry)> _queue =
        Channel.CreateBounded<(string, TimelineEntry)>(new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    private readonly Lock _gate = new();
    private DateTimeOffset? _loggedAt;
    private long _dropped;

    /// <summary>Entries dropped since the process started (a full queue, or a failed write).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public Task AppendAsync(string sessionId, TimelineEntry entry, CancellationToken cancellationToken = default)
    {
        if (!_queue.Writer.TryWrite((sessionId, entry)))
        {
            Drop(null);
        }

        return Task.CompletedTask;
    }

    public Task<SessionTimelineView?> ReadAsync(string sessionId, CancellationToken cancellationToken = default) =>
        store.ReadAsync(sessionId, cancellationToken);

    public Task<IReadOnlyList<TimelineSessionSummary>> RecentAsync(string? clientId, int limit, CancellationToken cancellationToken = default) =>
        store.RecentAsync(clientId, limit, cancellationToken);

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete(); // The writer empties the queue, then ends.
        return base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Not ended by stoppingToken: what is queued is written until the queue is completed and empty.
        await foreach (var (sessionId, entry) in _queue.Reader.ReadAllAsync(CancellationToken.None))
        {
            try
            {
                await store.AppendAsync(sessionId, entry, CancellationToken.None).WaitAsync(WriteLimit, time, CancellationToken.None);
            }
            catch (Exception ex)
            {
                Drop(ex);
            }
        }
    }

    private void Drop(Exception? failure)
    {
        var dropped = Interlocked.Increment(ref _dropped);
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (_loggedAt is { } at && now - at < LogEvery)
            {
                return;
            }

            _loggedAt = now;
        }

        if (failure is null)
        {
            LogQueueFull(logger, Capacity, dropped);
        }
        else
        {
            LogWriteFailed(logger, dropped, failure);
        }
    }

    // Entries themselves are never logged (their arguments are masked, but they are the tenant's); the service's
    // redacting logger masks configured secrets in the exception's text.
    [LoggerMessage(Level = LogLevel.Warning, Message = "A session timeline entry could not be stored and was dropped; {Dropped} dropped so far")]
    private static partial void LogWriteFailed(ILogger logger, long dropped, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The session timeline queue is full ({Capacity} entries); the entry was dropped; {Dropped} dropped so far")]
    private static partial void LogQueueFull(ILogger logger, int capacity, long dropped);
}
