using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.RateLimiting;
using Anchor.Orleans.Grains.Persistence;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Anchor.Orleans.Grains.RateLimiting;

/// <summary>
/// Sliding-log rate limiter (see <see cref="IClientRateLimiterGrain"/>): the log holds the times of admitted calls
/// still in the window, at most <c>maxRequests</c> of them. Reentrant with group commit so a client's concurrent
/// calls share one write; the decision for each call is taken between awaits, so the count is exact.
/// </summary>
[Reentrant]
public sealed partial class ClientRateLimiterGrain : Grain, IClientRateLimiterGrain
{
    private readonly IPersistentState<RateLimiterState> _state;
    private readonly TimeProvider _time;
    private readonly ILogger<ClientRateLimiterGrain> _logger;
    private readonly GroupCommit _commit;

    public ClientRateLimiterGrain(
        [PersistentState("rate", OrleansHostingExtensions.StorageName)] IPersistentState<RateLimiterState> state,
        TimeProvider time,
        ILogger<ClientRateLimiterGrain> logger)
    {
        _state = state;
        _time = time;
        _logger = logger;
        _commit = new GroupCommit(() => _state.WriteStateAsync(), OnWriteFailed);
    }

    public async Task<RateLimitDecision> AcquireAsync(int maxRequests, int windowSeconds, CancellationToken cancellationToken = default)
    {
        _commit.ThrowIfFaulted();
        Validate(maxRequests, windowSeconds);
        var now = _time.GetUtcNow();
        var window = TimeSpan.FromSeconds(windowSeconds);
        var log = _state.State.Admitted;
        Expire(log, now, window);
        if (log.Count >= maxRequests)
        {
            return Refused(log, now, window, maxRequests, windowSeconds);
        }

        log.Add(now.UtcTicks);
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
        var counted = _state.State.Admitted.Where(t => t + window.Ticks > now.UtcTicks).ToList();
        return Task.FromResult(counted.Count >= maxRequests
            ? Refused(counted, now, window, maxRequests, windowSeconds)
            : new RateLimitDecision(true, maxRequests, maxRequests - counted.Count, windowSeconds, TimeSpan.Zero, OldestLeavesAt(counted, window)));
    }

    /// <summary>A call made at <c>t0</c> counts while <c>now &lt; t0 + window</c>.</summary>
    private static void Expire(List<long> log, DateTimeOffset now, TimeSpan window)
    {
        var expired = 0;
        while (expired < log.Count && log[expired] + window.Ticks <= now.UtcTicks)
        {
            expired++;
        }

        log.RemoveRange(0, expired);
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
            throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: rate limit needs maxRequests ≥ 1 and windowSeconds ≥ 1 (got {maxRequests}, {windowSeconds}).");
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

/// <summary>UTC ticks of the admitted calls still in the window, oldest first.</summary>
[GenerateSerializer, Alias("anchor.RateLimiterState")]
public sealed class RateLimiterState
{
    [Id(0)]
    public List<long> Admitted { get; set; } = [];
}
