using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Anchor.Orleans.Grains.Tests.Errors;

[Collection(ClusterCollection.Name)]
public sealed class AnchorExceptionTests(ClusterFixture fixture)
{
    [Fact]
    public void Message_IsCodeThenDetail()
    {
        var ex = new AnchorException(ErrorCodes.InvalidArgument, "a profile name is 1 to 64 letters.");

        Assert.Equal("invalid_argument: a profile name is 1 to 64 letters.", ex.Message);
        Assert.Equal(ErrorCodes.InvalidArgument, ex.Code);
    }

    [Fact]
    public void Message_IsNotPrefixedTwice_WhenTheDetailAlreadyStartsWithTheCode()
    {
        Assert.Equal("rate_limited: retry after 3 s.", new AnchorException(ErrorCodes.RateLimited, "rate_limited: retry after 3 s.").Message);
        // Only the exact "{code}: " prefix counts as already composed.
        Assert.Equal("rate_limited: rate_limited twice", new AnchorException(ErrorCodes.RateLimited, "rate_limited twice").Message);
        Assert.Equal("timeout: invalid_argument: x", new AnchorException(ErrorCodes.Timeout, "invalid_argument: x").Message);
    }

    [Fact]
    public void Message_CodeAndRetryAfter_SurviveTheOrleansSerializer()
    {
        var serializer = fixture.Silo.GetRequiredService<Serializer>();
        var sent = new AnchorException(ErrorCodes.RateLimited, "retry after 3 s.", TimeSpan.FromSeconds(3));

        var received = Assert.IsType<AnchorException>(serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(sent)));

        Assert.Equal("rate_limited: retry after 3 s.", received.Message);
        Assert.Equal(ErrorCodes.RateLimited, received.Code);
        Assert.Equal(TimeSpan.FromSeconds(3), received.RetryAfter);
    }
}
