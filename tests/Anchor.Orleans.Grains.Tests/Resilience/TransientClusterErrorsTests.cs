using Anchor.Orleans.Grains.Resilience;

namespace Anchor.Orleans.Grains.Tests.Resilience;

public sealed class TransientClusterErrorsTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task RetryAsync_RetriesFailoverErrors_UntilTheCallLands()
    {
        var attempts = 0;

        var result = await TransientClusterErrors.RetryAsync(
            _ => ++attempts < 3 ? throw new SiloUnavailableException() : Task.FromResult(42), TimeSpan.FromSeconds(30), TimeProvider.System, Ct);

        Assert.Equal(42, result);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task RetryAsync_DoesNotRetry_AnErrorThatIsNotAFailover()
    {
        var attempts = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => TransientClusterErrors.RetryAsync<int>(
            _ =>
            {
                attempts++;
                throw new InvalidOperationException("storage said no");
            },
            TimeSpan.FromSeconds(30),
            TimeProvider.System,
            Ct));
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task RetryAsync_GivesUp_WhenItsLimitHasPassed()
    {
        await Assert.ThrowsAsync<TimeoutException>(() => TransientClusterErrors.RetryAsync<int>(
            _ => throw new TimeoutException(), TimeSpan.FromMilliseconds(300), TimeProvider.System, Ct));
    }

    [Theory]
    [InlineData(typeof(SiloUnavailableException), true)]
    [InlineData(typeof(TimeoutException), true)]
    [InlineData(typeof(OrleansException), false)]
    [InlineData(typeof(InvalidOperationException), false)]
    public void IsTransient_NamesTheErrorsOfAFailover(Type type, bool transient) =>
        Assert.Equal(transient, TransientClusterErrors.IsTransient((Exception)Activator.CreateInstance(type)!));
}
