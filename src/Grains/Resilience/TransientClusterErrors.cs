using System.Runtime.CompilerServices;
using Orleans.Runtime.Messaging;
using Polly;
using Polly.Retry;

namespace Anchor.Orleans.Grains.Resilience;

/// <summary>
/// Errors a healthy cluster produces while a silo joins, drains or dies: a message to a dead silo rejected, the silo
/// declared unavailable, a call that timed out waiting for it. They pass once membership has moved the grain; they are
/// retried, never reported as a storage failure.
/// </summary>
public static class TransientClusterErrors
{
    private static readonly ResiliencePropertyKey<DateTimeOffset> Deadline = new("anchor.transient-retry.deadline");

    // One pipeline per clock (the silo's, or a test's fake one); the deadline of each call travels in its context.
    private static readonly ConditionalWeakTable<TimeProvider, ResiliencePipeline> Pipelines = new();

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
        // Continues on the caller's context, as a plain await would (a grain's scheduler, if a grain calls).
        var context = ResilienceContextPool.Shared.Get(continueOnCapturedContext: true, cancellationToken);
        try
        {
            context.Properties.Set(Deadline, time.GetUtcNow() + limit);
            return await Pipelines.GetValue(time, BuildPipeline).ExecuteAsync(
                static async (context, operation) => await operation(context.CancellationToken),
                context,
                operation);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
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

    private static ResiliencePipeline BuildPipeline(TimeProvider time) =>
        new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                // Another attempt only if it can start before the deadline, after the back-off it waits first.
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } exception
                    && IsTransient(exception)
                    && !args.Context.CancellationToken.IsCancellationRequested
                    && time.GetUtcNow() + Backoff(args.AttemptNumber) < args.Context.Properties.GetValue(Deadline, DateTimeOffset.MinValue)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(Backoff(args.AttemptNumber)),
                MaxRetryAttempts = int.MaxValue,
            })
            .Build();

    /// <summary>The wait after failed attempt <paramref name="attempt"/> (from 0): 100 ms, doubling up to 1 s.</summary>
    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromTicks(Math.Min(TimeSpan.FromMilliseconds(100).Ticks << Math.Min(attempt, 4), TimeSpan.TicksPerSecond));
}
