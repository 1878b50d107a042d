using Anchor.Orleans.Grains.Tests.Sessions;
using Anchor.Orleans.Grains.Timeline;
using Microsoft.Extensions.Time.Testing;

namespace Anchor.Orleans.Grains.Tests.Timeline;

public sealed class MemorySessionTimelineTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(T0);

    private MemorySessionTimeline Timeline(int maxEntries = 10, int hours = 24) =>
        new(_time, new SessionTestParts.Fixed<TimelineOptions>(new TimelineOptions { MaxEntriesPerSession = maxEntries, TimelineHours = hours }));

    internal static TimelineEntry Call(DateTimeOffset at, string tool, decimal cost = 0.01m, string client = "agent-a") =>
        new(at, TimelineEntryKinds.Call, tool, client, null, "success", null, 12, cost, "http://localhost/a", null);

    [Fact]
    public async Task Append_DropsTheOldest_AndCountsThem_PastTheBound()
    {
        var timeline = Timeline(maxEntries: 10);
        for (var i = 0; i < 13; i++)
        {
            await timeline.AppendAsync("s-1", Call(T0.AddSeconds(i), $"tool_{i}"), Ct);
        }

        var view = (await timeline.ReadAsync("s-1", Ct))!;

        Assert.Equal(10, view.Entries.Count);
        Assert.Equal(3, view.Truncated);
        Assert.Equal("tool_3", view.Entries[0].Name);
        Assert.Equal("tool_12", view.Entries[^1].Name);
        Assert.Equal(0.13m, view.TotalCostUsd);
        Assert.Equal("agent-a", view.ClientId);
    }

    [Fact]
    public async Task Read_AnswersNull_OnceTimelineHoursPassedAfterTheLastEntry()
    {
        var timeline = Timeline(hours: 24);
        await timeline.AppendAsync("s-1", Call(T0, "browser_navigate"), Ct);
        _time.Advance(TimeSpan.FromHours(23));
        await timeline.AppendAsync("s-1", Call(_time.GetUtcNow(), "browser_click"), Ct);

        _time.Advance(TimeSpan.FromHours(23));
        var kept = await timeline.ReadAsync("s-1", Ct);
        _time.Advance(TimeSpan.FromHours(1));
        var expired = await timeline.ReadAsync("s-1", Ct);

        Assert.Equal(2, kept!.Entries.Count);
        Assert.Null(expired);
        Assert.Empty(await timeline.RecentAsync(null, 10, Ct));
    }

    [Fact]
    public async Task Read_OrdersEntriesByTime_WhateverOrderTheyArrived()
    {
        var timeline = Timeline();
        await timeline.AppendAsync("s-1", TimelineEntry.Event(T0.AddSeconds(2), TimelineEvents.Closed, "agent-a", "completed"), Ct);
        await timeline.AppendAsync("s-1", Call(T0.AddSeconds(1), "browser_session_close"), Ct);

        var view = (await timeline.ReadAsync("s-1", Ct))!;

        Assert.Equal(["browser_session_close", TimelineEvents.Closed], view.Entries.Select(e => e.Name));
    }

    [Fact]
    public async Task Recent_ListsMostRecentFirst_OfOneClient_AndSaysWhichClosed()
    {
        var timeline = Timeline();
        await timeline.AppendAsync("s-1", TimelineEntry.Event(T0, TimelineEvents.Opened, "agent-a", "opened"), Ct);
        _time.Advance(TimeSpan.FromMinutes(1));
        await timeline.AppendAsync("s-2", TimelineEntry.Event(_time.GetUtcNow(), TimelineEvents.Opened, "agent-b", "opened"), Ct);
        _time.Advance(TimeSpan.FromMinutes(1));
        await timeline.AppendAsync("s-3", TimelineEntry.Event(_time.GetUtcNow(), TimelineEvents.Opened, "agent-a", "opened"), Ct);
        await timeline.AppendAsync("s-3", TimelineEntry.Event(_time.GetUtcNow(), TimelineEvents.Closed, "agent-a", "operator", costUsd: 0.02m), Ct);

        var all = await timeline.RecentAsync(null, 10, Ct);
        var ofA = await timeline.RecentAsync("agent-a", 10, Ct);
        var one = await timeline.RecentAsync(null, 1, Ct);

        Assert.Equal(["s-3", "s-2", "s-1"], all.Select(s => s.SessionId));
        Assert.Equal(["s-3", "s-1"], ofA.Select(s => s.SessionId));
        Assert.Equal(new TimelineSessionSummary("s-3", "agent-a", T0.AddMinutes(2), T0.AddMinutes(2), 2, 0.02m, true), one.Single());
        Assert.False(all.Single(s => s.SessionId == "s-1").Closed);
    }
}
