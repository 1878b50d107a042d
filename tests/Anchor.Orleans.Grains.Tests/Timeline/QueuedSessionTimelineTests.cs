using Anchor.Orleans.Grains.Tests.Sessions;
using Anchor.Orleans.Grains.Timeline;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Anchor.Orleans.Grains.Tests.Timeline;

public sealed class QueuedSessionTimelineTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Append_AnswersAtOnce_AndTheWriterStoresInOrder()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.Zero));
        var store = new MemorySessionTimeline(time, new SessionTestParts.Fixed<TimelineOptions>(new TimelineOptions()));
        using var queue = new QueuedSessionTimeline(store, time, NullLogger<QueuedSessionTimeline>.Instance);
        await queue.StartAsync(Ct);
        for (var i = 0; i < 5; i++)
        {
            await queue.AppendAsync("s-1", MemorySessionTimelineTests.Call(time.GetUtcNow(), $"tool_{i}"), Ct);
        }

        var view = await Poll.UntilAsync(() => queue.ReadAsync("s-1", Ct), v => v?.Entries.Count == 5, TimeSpan.FromSeconds(10), "the queued entries");
        await queue.StopAsync(Ct);

        Assert.Equal(["tool_0", "tool_1", "tool_2", "tool_3", "tool_4"], view!.Entries.Select(e => e.Name));
        Assert.Equal(0, queue.Dropped);
    }

    [Fact]
    public async Task Append_DropsAndCounts_WhenTheStoreFails_WithoutFailingTheCaller()
    {
        var time = TimeProvider.System;
        using var queue = new QueuedSessionTimeline(new FailingStore(), time, NullLogger<QueuedSessionTimeline>.Instance);
        await queue.StartAsync(Ct);

        await queue.AppendAsync("s-1", MemorySessionTimelineTests.Call(time.GetUtcNow(), "browser_click"), Ct);
        await queue.AppendAsync("s-1", MemorySessionTimelineTests.Call(time.GetUtcNow(), "browser_click"), Ct);

        await Poll.UntilAsync(() => queue.Dropped == 2, TimeSpan.FromSeconds(10), "both writes dropped");
        await queue.StopAsync(Ct);
    }

    private sealed class FailingStore : ISessionTimeline
    {
        public Task AppendAsync(string sessionId, TimelineEntry entry, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("store down");

        public Task<SessionTimelineView?> ReadAsync(string sessionId, CancellationToken cancellationToken = default) =>
            Task.FromResult<SessionTimelineView?>(null);

        public Task<IReadOnlyList<TimelineSessionSummary>> RecentAsync(string? clientId, int limit, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<TimelineSessionSummary>>([]);
    }
}
