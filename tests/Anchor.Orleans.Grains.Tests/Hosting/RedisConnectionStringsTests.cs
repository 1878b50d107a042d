using Anchor.Orleans.Grains.Hosting;
using StackExchange.Redis;

namespace Anchor.Orleans.Grains.Tests.Hosting;

public sealed class RedisConnectionStringsTests
{
    [Fact]
    public void Parse_KeepsTheConnectionString_FailsFast_AndReadsRepliesOnTheThreadPool()
    {
        var options = RedisConnectionStrings.Parse("127.0.0.1:6391,ssl=false,connectTimeout=2000");

        Assert.Equal("127.0.0.1:6391", Assert.Single(options.EndPoints).ToString());
        Assert.Equal(2000, options.ConnectTimeout);
        Assert.False(options.AbortOnConnectFail);
        Assert.Same(SocketManager.ThreadPool, options.SocketManager);
    }

    [Theory]
    [InlineData("")]
    [InlineData(",,,")]
    [InlineData("password=only")]
    public void TryParse_RefusesAStringWithoutAnEndpoint(string connectionString)
    {
        Assert.False(RedisConnectionStrings.TryParse(connectionString, out _));
    }
}
