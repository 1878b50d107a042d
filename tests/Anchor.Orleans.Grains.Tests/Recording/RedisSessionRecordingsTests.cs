using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Recording;
using Anchor.Orleans.Grains.Timeline;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using static Anchor.Orleans.Grains.Tests.Sessions.SessionTestParts;

namespace Anchor.Orleans.Grains.Tests.Recording;

/// <summary>The Redis trace store against a real redis-server.</summary>
public sealed class RedisSessionRecordingsTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static AnchorHostingOptions Hosting(RedisServer redis)
    {
        var hosting = new AnchorHostingOptions();
        hosting.Redis.ConnectionString = redis.ConnectionString;
        hosting.Storage.Provider = StorageProvider.Redis;
        hosting.Cluster.ServiceId = $"recording-{Guid.NewGuid():N}";
        return hosting;
    }

    [Fact]
    public async Task ReadTrace_MergesChunksWithTheirTtl_WhenSavedFromTwoSilos()
    {
        var hosting = Options.Create(Hosting(redis));
        await using var connection = new RedisConnection(hosting);
        var store = new RedisSessionRecordings(connection, hosting, new Fixed<TimelineOptions>(new() { TimelineHours = 3 }), TimeProvider.System);
        var first = TraceZips.Trace("first");
        var at = new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);

        await store.SaveAsync(new SessionTrace("s1", "agent-a", first, false, at), Ct);
        var one = await store.ReadTraceAsync("s1", Ct);
        await store.SaveAsync(new SessionTrace("s1", "agent-a", TraceZips.Trace("second"), true, at.AddMinutes(1)), Ct);
        var two = await store.ReadTraceAsync("s1", Ct);

        Assert.Equal(("agent-a", false, at), (one!.ClientId, one.Truncated, one.RecordedAt));
        Assert.Equal(first, one.Zip);
        Assert.NotNull(two);
        Assert.True(two.Truncated);
        Assert.Equal(at.AddMinutes(1), two.RecordedAt);
        Assert.Equal(
            ["trace.trace", "trace.network", "screencast/first.jpeg", "chunk1-trace.trace", "chunk1-trace.network", "screencast/second.jpeg"],
            TraceZip.EntryNames(two.Zip));
        Assert.Null(await store.ReadTraceAsync("s2", Ct));
        var ttl = await (await connection.GetAsync()).GetDatabase().KeyTimeToLiveAsync($"anchor/{hosting.Value.Cluster.ServiceId}/recording/s1");
        Assert.InRange(ttl!.Value, TimeSpan.FromHours(3) - TimeSpan.FromMinutes(1), TimeSpan.FromHours(3));
    }
}
