using Anchor.Orleans.Grains.Recording;
using Anchor.Orleans.Grains.Timeline;
using Microsoft.Extensions.Time.Testing;
using static Anchor.Orleans.Grains.Tests.Sessions.SessionTestParts;

namespace Anchor.Orleans.Grains.Tests.Recording;

public sealed class MemorySessionRecordingsTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private readonly FakeTimeProvider _time = new(T0);

    private MemorySessionRecordings Store(long maxMemoryBytes = 1_000_000, int hours = 24) => new(
        new Fixed<RecordingOptions>(new() { MaxTraceBytes = 1_024, MaxMemoryBytes = maxMemoryBytes }),
        new Fixed<TimelineOptions>(new() { TimelineHours = hours }),
        _time);

    [Fact]
    public async Task ReadTrace_ReturnsTheStoredTrace_WhenSaved()
    {
        var store = Store();
        var zip = TraceZips.Trace("a");
        await store.SaveAsync(new SessionTrace("s1", "agent-a", zip, Truncated: false, T0), Ct);

        var trace = await store.ReadTraceAsync("s1", Ct);

        Assert.Equal(new SessionTrace("s1", "agent-a", zip, false, T0), trace);
        Assert.Null(await store.ReadTraceAsync("s2", Ct));
    }

    [Fact]
    public async Task ReadTrace_ReturnsNull_AfterTimelineHours()
    {
        var store = Store(hours: 2);
        await store.SaveAsync(new SessionTrace("s1", "agent-a", TraceZips.Trace("a"), false, T0), Ct);

        _time.Advance(TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1));
        Assert.NotNull(await store.ReadTraceAsync("s1", Ct));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Null(await store.ReadTraceAsync("s1", Ct));
        Assert.Equal(0, store.Bytes);
    }

    [Fact]
    public async Task Save_DropsTheTracesThatExpireFirst_WhenPastMaxMemoryBytes()
    {
        var a = TraceZips.Trace("a", 1_000);
        var b = TraceZips.Trace("b", 1_000);
        var c = TraceZips.Trace("c", 1_000);
        var store = Store(maxMemoryBytes: a.Length + b.Length + c.Length - 1);

        await store.SaveAsync(new SessionTrace("a", "agent-a", a, false, T0), Ct);
        _time.Advance(TimeSpan.FromMinutes(1));
        await store.SaveAsync(new SessionTrace("b", "agent-a", b, false, _time.GetUtcNow()), Ct);
        _time.Advance(TimeSpan.FromMinutes(1));
        await store.SaveAsync(new SessionTrace("c", "agent-a", c, false, _time.GetUtcNow()), Ct);

        Assert.Null(await store.ReadTraceAsync("a", Ct));
        Assert.NotNull(await store.ReadTraceAsync("b", Ct));
        Assert.NotNull(await store.ReadTraceAsync("c", Ct));
        Assert.Equal(b.Length + c.Length, store.Bytes);
    }

    [Fact]
    public async Task ReadTrace_MergesChunks_WhenTheSessionMoved()
    {
        var store = Store();
        await store.SaveAsync(new SessionTrace("s1", "agent-a", TraceZips.Trace("first"), false, T0), Ct);
        _time.Advance(TimeSpan.FromMinutes(5));
        await store.SaveAsync(new SessionTrace("s1", "agent-a", TraceZips.Trace("second"), true, _time.GetUtcNow()), Ct);

        var trace = await store.ReadTraceAsync("s1", Ct);

        Assert.NotNull(trace);
        Assert.True(trace.Truncated);
        Assert.Equal(T0.AddMinutes(5), trace.RecordedAt);
        Assert.Equal(
            ["trace.trace", "trace.network", "screencast/first.jpeg", "chunk1-trace.trace", "chunk1-trace.network", "screencast/second.jpeg"],
            TraceZip.EntryNames(trace.Zip));
    }
}
