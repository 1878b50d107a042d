using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.RateLimiting;
using Anchor.Orleans.Grains.Persistence;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Serialization;

namespace Anchor.Orleans.Grains.RateLimiting;

/// <summary>
/// Sliding-log rate limiter (see <see cref="IClientRateLimiterGrain"/>): the log holds the times of admitted calls
/// still in the window, at most <c>maxRequests</c> of them. Reentrant with group commit so a client's concurrent
/// calls share one write; the decision for each call is taken between awaits, so the count is exact.
/// Persisted incrementally: each admitted call is one entry, written when admitted and removed when it leaves the
/// window, so a write costs O(calls admitted and expired since the last one), not O(the log) — the log stays exact
/// (no sliding-window-counter approximation) and so do the refusals and <c>Retry-After</c>.
/// </summary>
[Reentrant]
public sealed partial class ClientRateLimiterGrain : Grain, IClientRateLimiterGrain
{
    /// <summary>The stored state's name (Redis keys, test inspection).</summary>
    public const string StateName = "rate";

    private readonly EntryState<RateLimiterHead, AdmittedCall> _state;
    private readonly TimeProvider _time;
    private readonly ILogger<ClientRateLimiterGrain> _logger;
    private readonly GroupCommit _commit;

    // The log in memory, oldest first: UTC ticks of each counted call, and the key of its stored entry.
    private readonly List<long> _log = [];
    private readonly List<string> _keys = [];

    public ClientRateLimiterGrain(
        IEntryStateStore store,
        Serializer serializer,
        TimeProvider time,
        ILogger<ClientRateLimiterGrain> logger)
    {
        _state = new EntryState<RateLimiterHead, AdmittedCall>(store, serializer, StateName);
        _time = time;
        _logger = logger;
        _commit = new GroupCommit(() => _state.WriteAsync(), OnWriteFailed);
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await _state.ReadAsync(this.GetGrainId(), cancellationToken);
        foreach (var (key, call) in _state.Entries.OrderBy(e => e.Value.AdmittedAt).ThenBy(e => e.Value.Sequence))
        {
            _log.Add(call.AdmittedAt);
            _keys.Add(key);
        }
    }

    public async Task<RateLimitDecision> AcquireAsync(int maxRequests, int windowSeconds, CancellationToken cancellationToken = default)
    {
        _commit.ThrowIfFaulted();
        Validate(maxRequests, windowSeconds);
        var now = _time.GetUtcNow();
        var window = TimeSpan.FromSeconds(windowSeconds);
        var log = _log;
        Expire(now, window);
        if (log.Count >= maxRequests)
        {
            return Refused(log, now, window, maxRequests, windowSeconds);
        }

        var sequence = _state.Head.NextSequence++;
        var key = sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
        log.Add(now.UtcTicks);
        _keys.Add(key);
        _state.Set(key, new AdmittedCall { AdmittedAt = now.UtcTicks, Sequence = sequence });
        // Decided now, between awaits: other calls interleave at the write and must not change this answer.
        var admitted = new RateLimitDecision(true, maxRequests, maxRequests - log.Count, windowSeconds, TimeSpan.Zero, OldestLeavesAt(log, window));
        // An idle client's log must outlive idle-activation collection, or a reactivation would read it anew anyway;
        // keeping the activation warm for the window saves that read.
        DelayDeactivation(window);
        await _commit.CommitAsync();
        return admitted;
    }

    public Task<RateLimitDecision> PeekAsync(int maxRequests, int windowSeconds, CancellationToken cancellationToken = default)
    {
        Validate(maxRequests, windowSeconds);
        var now = _time.GetUtcNow();
        var window = TimeSpan.FromSeconds(windowSeconds);
        var counted = _log.Where(t => t + window.Ticks > now.UtcTicks).ToList();
        return Task.FromResult(counted.Count >= maxRequests
            ? Refused(counted, now, window, maxRequests, windowSeconds)
            : new RateLimitDecision(true, maxRequests, maxRequests - counted.Count, windowSeconds, TimeSpan.Zero, OldestLeavesAt(counted, window)));
    }

    /// <summary>A call made at <c>t0</c> counts while <c>now &lt; t0 + window</c>.</summary>
    private void Expire(DateTimeOffset now, TimeSpan window)
    {
        var expired = 0;
        while (expired < _log.Count && _log[expired] + window.Ticks <= now.UtcTicks)
        {
            _state.Remove(_keys[expired]);
            expired++;
        }

        _log.RemoveRange(0, expired);
        _keys.RemoveRange(0, expired);
    }

    private static RateLimitDecision Refused(List<long> counted, DateTimeOffset now, TimeSpan window, int maxRequests, int windowSeconds)
    {
        // With a lowered limit more than maxRequests calls may count: room opens when the excess has left too.
        var freeing = counted[counted.Count - maxRequests];
        var opensAt = new DateTimeOffset(freeing + window.Ticks, TimeSpan.Zero);
        return new RateLimitDecision(false, maxRequests, 0, windowSeconds, opensAt - now, OldestLeavesAt(counted, window));
    }

    private static DateTimeOffset? OldestLeavesAt(List<long> counted, TimeSpan window) =>
        counted.Count == 0 ? null : new DateTimeOffset(counted[0] + window.Ticks, TimeSpan.Zero);

    private static void Validate(int maxRequests, int windowSeconds)
    {
        if (maxRequests < 1 || windowSeconds < 1)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"rate limit needs maxRequests ≥ 1 and windowSeconds ≥ 1 (got {maxRequests}, {windowSeconds}).");
        }
    }

    private void OnWriteFailed(Exception exception)
    {
        LogWriteFailed(_logger, this.GetPrimaryKeyString(), exception);
        DeactivateOnIdle();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Rate limiter of client {ClientId} could not be saved; deactivating to reload from storage")]
    private static partial void LogWriteFailed(ILogger logger, string clientId, Exception exception);
}

/// <summary>The limiter's head: the sequence number of the next admitted call (entry keys never repeat).</summary>
[GenerateSerializer, Alias("anchor.RateLimiterHead")]
public sealed class RateLimiterHead
{
    [Id(0)]
    public long NextSequence { get; set; }
}

/// <summary>One admitted call still counted: when (UTC ticks), and its sequence number (order within a tick).</summary>
[GenerateSerializer, Alias("anchor.AdmittedCall")]
public sealed class AdmittedCall
{
    [Id(0)]
    public long AdmittedAt { get; set; }

    [Id(1)]
    public long Sequence { get; set; }
}
