using Orleans.Concurrency;

namespace Anchor.Orleans.Grains.Interfaces.RateLimiting;

/// <summary>
/// One client's tool-call rate (key = client id), as a sliding log: a call at time <c>t</c> is admitted when fewer
/// than <c>maxRequests</c> admitted calls fall in the window <c>(t − windowSeconds, t]</c>. An admitted call stops
/// counting exactly <c>windowSeconds</c> after it was made; refused calls never count. The log is persisted, so a
/// silo's death does not hand the client a fresh window.
/// </summary>
public interface IClientRateLimiterGrain : IGrainWithStringKey
{
    /// <summary>Admits and records one call, or refuses it with the time until the oldest counted call leaves the window.</summary>
    Task<RateLimitDecision> AcquireAsync(int maxRequests, int windowSeconds, CancellationToken cancellationToken = default);

    /// <summary>What <see cref="AcquireAsync"/> would answer now, without recording a call.</summary>
    [ReadOnly]
    Task<RateLimitDecision> PeekAsync(int maxRequests, int windowSeconds, CancellationToken cancellationToken = default);
}

/// <summary>
/// A rate-limit answer. <see cref="Remaining"/> counts calls still allowed in the window after this one;
/// <see cref="ResetAt"/> is when the oldest counted call leaves the window (null when none is counted).
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.RateLimitDecision")]
public sealed record RateLimitDecision(
    [property: Id(0)] bool Allowed,
    [property: Id(1)] int Limit,
    [property: Id(2)] int Remaining,
    [property: Id(3)] int WindowSeconds,
    [property: Id(4)] TimeSpan RetryAfter,
    [property: Id(5)] DateTimeOffset? ResetAt);
