using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Tests.Sessions;
using Anchor.Orleans.Grains.Timeline;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;

namespace Anchor.Orleans.Grains.Tests.Timeline;

/// <summary>The Redis timeline against a real <c>redis-server</c>: the bound, the totals, the expiry and the indexes.</summary>
public sealed class RedisSessionTimelineTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncDisposable
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly RedisConnection _connection = new(Options.Create(new AnchorHostingOptions { Storage = { Provider = StorageProvider.Redis }, Redis = { ConnectionString = redis.ConnectionString } }));
    private readonly string _service = $"svc-{Guid.NewGuid():N}";

    private RedisSessionTimeline Timeline(int maxEntries = 10, int hours = 24) => new(
        _connection,
        Options.Create(new ClusterOptions { ServiceId = _service }),
        new SessionTestParts.Fixed<TimelineOptions>(new TimelineOptions { MaxEntriesPerSession = maxEntries, TimelineHours = hours }),
        _time);

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    [Fact]
    public async Task Append_KeepsTheBound_CountsTheDropped_AndTotalsEveryCost()
    {
        var timeline = Timeline(maxEntries: 10);
        for (var i = 0; i < 12; i++)
        {
            await timeline.AppendAsync("s-1", MemorySessionTimelineTests.Call(_time.GetUtcNow().AddSeconds(i), $"tool_{i}", cost: 0.000001m), Ct);
        }

        var view = (await timeline.ReadAsync("s-1", Ct))!;

        Assert.Equal(10, view.Entries.Count);
        Assert.Equal(2, view.Truncated);
        Assert.Equal("tool_2", view.Entries[0].Name);
        Assert.Equal(0.000012m, view.TotalCostUsd);
        Assert.Equal(MemorySessionTimelineTests.Call(_time.GetUtcNow().AddSeconds(11), "tool_11", cost: 0.000001m), view.Entries[^1] with { Arguments = null });
    }

    [Fact]
    public async Task Append_RoundTripsArguments_AndSetsTheExpiry_AfterTheLastEntry()
    {
        var timeline = Timeline(hours: 2);
        var entry = MemorySessionTimelineTests.Call(_time.GetUtcNow(), "browser_type") with { Arguments = new Dictionary<string, string?> { ["text"] = "(hidden, 3 characters)", ["ref"] = null } };
        await timeline.AppendAsync("s-1", entry, Ct);

        var view = (await timeline.ReadAsync("s-1", Ct))!;
        var db = (await _connection.GetAsync()).GetDatabase();
        var (entries, totals) = timeline.SessionKeys("s-1");
        var ttl = await db.KeyTimeToLiveAsync(entries);

        Assert.Equal(entry.Arguments, view.Entries.Single().Arguments);
        Assert.InRange(ttl!.Value, TimeSpan.FromHours(2) - TimeSpan.FromMinutes(1), TimeSpan.FromHours(2));
        Assert.InRange((await db.KeyTimeToLiveAsync(totals))!.Value, TimeSpan.FromHours(2) - TimeSpan.FromMinutes(1), TimeSpan.FromHours(2));
        Assert.Null(await timeline.ReadAsync("never-written", Ct));
    }

    [Fact]
    public async Task Recent_ListsMostRecentFirst_OfOneClient_AndLeavesOutTheOld()
    {
        var timeline = Timeline(hours: 1);
        var t0 = _time.GetUtcNow();
        await timeline.AppendAsync("s-old", TimelineEntry.Event(t0, TimelineEvents.Opened, "agent-a", "opened"), Ct);
        _time.Advance(TimeSpan.FromMinutes(61));
        await timeline.AppendAsync("s-1", TimelineEntry.Event(_time.GetUtcNow(), TimelineEvents.Opened, "agent-a", "opened"), Ct);
        _time.Advance(TimeSpan.FromSeconds(1));
        await timeline.AppendAsync("s-2", TimelineEntry.Event(_time.GetUtcNow(), TimelineEvents.Opened, "agent-b", "opened"), Ct);
        _time.Advance(TimeSpan.FromSeconds(1));
        await timeline.AppendAsync("s-1", TimelineEntry.Event(_time.GetUtcNow(), TimelineEvents.Closed, "agent-a", "operator", costUsd: 0.25m), Ct);

        var all = await timeline.RecentAsync(null, 10, Ct);
        var ofB = await timeline.RecentAsync("agent-b", 10, Ct);

        // s-1 was written last (its close), so it leads; s-old is past TimelineHours on the index's clock.
        Assert.Equal(["s-1", "s-2"], all.Select(s => s.SessionId));
        Assert.Equal(["s-2"], ofB.Select(s => s.SessionId));
        var closed = all[0];
        Assert.Equal(("agent-a", 2, 0.25m, true), (closed.ClientId, closed.Entries, closed.TotalCostUsd, closed.Closed));
        Assert.Equal(t0.AddMinutes(61).ToUnixTimeMilliseconds(), closed.FirstAt.ToUnixTimeMilliseconds());
        Assert.False(all[1].Closed);
    }
}
