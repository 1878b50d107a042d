using Anchor.Orleans.Grains.Interfaces.RateLimiting;

namespace Anchor.Orleans.Grains.Tests.RateLimiting;

[Collection(ClusterCollection.Name)]
public sealed class ClientRateLimiterGrainTests(ClusterFixture fixture)
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private IClientRateLimiterGrain NewLimiter() => fixture.Grains.GetGrain<IClientRateLimiterGrain>($"client-{Guid.NewGuid():N}");

    [Fact]
    public async Task Acquire_AdmitsMaxRequests_ThenRefusesUntilTheOldestCallLeavesTheWindow()
    {
        var t0 = await fixture.FreshMonthAsync();
        var limiter = NewLimiter();

        var first = await limiter.AcquireAsync(3, 10, Ct);
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        var second = await limiter.AcquireAsync(3, 10, Ct);
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        var third = await limiter.AcquireAsync(3, 10, Ct);

        Assert.Equal(new RateLimitDecision(true, 3, 2, 10, TimeSpan.Zero, t0.AddSeconds(10)), first);
        Assert.Equal(new RateLimitDecision(true, 3, 1, 10, TimeSpan.Zero, t0.AddSeconds(10)), second);
        Assert.Equal(new RateLimitDecision(true, 3, 0, 10, TimeSpan.Zero, t0.AddSeconds(10)), third);

        ClusterFixture.Time.SetUtcNow(t0.AddSeconds(5));
        Assert.Equal(new RateLimitDecision(false, 3, 0, 10, TimeSpan.FromSeconds(5), t0.AddSeconds(10)), await limiter.AcquireAsync(3, 10, Ct));
    }

    [Fact]
    public async Task Acquire_RefusesOneTickBeforeTheEdge_AndAdmitsExactlyAtIt()
    {
        var t0 = await fixture.FreshMonthAsync();
        var limiter = NewLimiter();
        Assert.True((await limiter.AcquireAsync(2, 60, Ct)).Allowed);
        Assert.True((await limiter.AcquireAsync(2, 60, Ct)).Allowed);

        ClusterFixture.Time.SetUtcNow(t0.AddSeconds(60).AddTicks(-1));
        var before = await limiter.AcquireAsync(2, 60, Ct);
        Assert.False(before.Allowed);
        Assert.Equal(TimeSpan.FromTicks(1), before.RetryAfter);

        ClusterFixture.Time.SetUtcNow(t0.AddSeconds(60));
        var at = await limiter.AcquireAsync(2, 60, Ct);
        // Both calls made at t0 left the window at t0 + 60 s; this one is the only call counted.
        Assert.Equal(new RateLimitDecision(true, 2, 1, 60, TimeSpan.Zero, t0.AddSeconds(120)), at);
    }

    [Fact]
    public async Task Acquire_DoesNotCountRefusedCalls()
    {
        var t0 = await fixture.FreshMonthAsync();
        var limiter = NewLimiter();
        Assert.True((await limiter.AcquireAsync(1, 10, Ct)).Allowed);
        for (var i = 0; i < 5; i++)
        {
            ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.False((await limiter.AcquireAsync(1, 10, Ct)).Allowed);
        }

        ClusterFixture.Time.SetUtcNow(t0.AddSeconds(10));
        Assert.True((await limiter.AcquireAsync(1, 10, Ct)).Allowed);
    }

    [Fact]
    public async Task Acquire_UnderConcurrency_AdmitsExactlyMaxRequests()
    {
        await fixture.FreshMonthAsync();
        var limiter = NewLimiter();

        var decisions = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => limiter.AcquireAsync(37, 3600, Ct)));

        Assert.Equal(37, decisions.Count(d => d.Allowed));
        Assert.Equal(Enumerable.Range(0, 37).Reverse().Order(), decisions.Where(d => d.Allowed).Select(d => d.Remaining).Order());
    }

    [Fact]
    public async Task Peek_ReportsRemaining_WithoutRecordingACall()
    {
        var t0 = await fixture.FreshMonthAsync();
        var limiter = NewLimiter();
        await limiter.AcquireAsync(5, 100, Ct);

        var peek = await limiter.PeekAsync(5, 100, Ct);
        var again = await limiter.PeekAsync(5, 100, Ct);

        Assert.Equal(new RateLimitDecision(true, 5, 4, 100, TimeSpan.Zero, t0.AddSeconds(100)), peek);
        Assert.Equal(peek, again);
    }
}
