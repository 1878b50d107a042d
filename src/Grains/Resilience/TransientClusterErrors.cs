using Orleans.Runtime.Messaging;

namespace Anchor.Orleans.Grains.Resilience;

/// <summary>
/// Errors a healthy cluster produces while a silo joins, drains or dies: a message to a dead silo rejected, the silo
/// declared unavailable, a call that timed out waiting for it. They pass once membership has moved the grain; they are
/// retried, never reported as a storage failure.
/// </summary>
public static class TransientClusterErrors
{
    public static bool IsTransient(Exception exception) => exception switch
    {
        OrleansMessageRejectionException or SiloUnavailableException or ConnectionFailedException or TimeoutException => true,
        AggregateException { InnerExceptions: [var inner] } => IsTransient(inner),
        _ => false,
    };

    /// <summary>
    /// Runs <paramref name="operation"/> until it succeeds, fails with a non-transient error, or <paramref name="limit"/>
    /// has passed (then the last transient error is thrown). Backs off from 100 ms to 1 s between attempts.
    /// </summary>
    public static async Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> operation, TimeSpan limit, TimeProvider time, CancellationToken cancellationToken = default)
    {
        var deadline = time.GetUtcNow() + limit;
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return await operation(cancellationToken);
            }
            catch (Exception ex) when (IsTransient(ex) && time.GetUtcNow() + delay < deadline && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(delay, time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.TicksPerSecond));
            }
        }
    }

    public static Task RetryAsync(Func<CancellationToken, Task> operation, TimeSpan limit, TimeProvider time, CancellationToken cancellationToken = default) =>
        RetryAsync(
            async ct =>
            {
                await operation(ct);
                return true;
            },
            limit,
            time,
            cancellationToken);
}
