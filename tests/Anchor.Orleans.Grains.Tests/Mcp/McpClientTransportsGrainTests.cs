using Anchor.Orleans.Grains.Mcp;
using Anchor.Orleans.Grains.Interfaces.Mcp;

namespace Anchor.Orleans.Grains.Tests.Mcp;

/// <summary>A key holds a bounded number of transport sessions: at the cap its least recently used idle one goes, or the new one is refused.</summary>
[Collection(ClusterCollection.Name)]
public sealed class McpClientTransportsGrainTests(ClusterFixture fixture)
{
    private const string Initialize = """{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}""";
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(300);
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private async Task<string> StartAsync(string clientId, IMcpClientTransportsGrain registry, int cap)
    {
        var id = $"mcp-{Guid.NewGuid():N}";
        await fixture.Grains.GetGrain<IMcpTransportSessionGrain>(id).StartAsync(clientId, Initialize, Ct);
        Assert.True((await registry.OpenAsync(McpTransportKind.Session, id, cap, Idle, Ct)).Allowed);
        return id;
    }

    private Task<string?> TouchAsync(string clientId, string id) => fixture.Grains.GetGrain<IMcpTransportSessionGrain>(id).TouchAsync(clientId, Ct);

    [Fact]
    public async Task AtTheCap_NoneIdle_IsRefusedUntilTheOldestIsIdle_ThenTheOldestIdleIsEnded()
    {
        var client = $"cap-{Guid.NewGuid():N}";
        var registry = fixture.Grains.GetGrain<IMcpClientTransportsGrain>(client);
        var first = await StartAsync(client, registry, 3);
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(10));
        var second = await StartAsync(client, registry, 3);
        var third = await StartAsync(client, registry, 3);
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(100));
        // The first is the oldest, but used now: the second becomes the least recently used.
        Assert.NotNull(await TouchAsync(client, first));

        var refused = await registry.MakeRoomAsync(McpTransportKind.Session, 3, Idle, Ct);
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(200));
        var admitted = await registry.OpenAsync(McpTransportKind.Session, "mcp-fourth", 3, Idle, Ct);

        Assert.Equal(new TransportAdmission(false, 3, 3, null, TimeSpan.FromSeconds(200)), refused);
        Assert.Equal(new TransportAdmission(true, 3, 3, second, TimeSpan.Zero), admitted);
        Assert.Null(await TouchAsync(client, second));
        Assert.Equal(Initialize, await TouchAsync(client, first));
        Assert.Equal(Initialize, await TouchAsync(client, third));
    }

    [Fact]
    public async Task AtTheCap_SessionsThatEnded_AreDropped_AndNothingLiveIsEnded()
    {
        var client = $"cap-{Guid.NewGuid():N}";
        var registry = fixture.Grains.GetGrain<IMcpClientTransportsGrain>(client);
        var first = await StartAsync(client, registry, 2);
        var second = await StartAsync(client, registry, 2);
        Assert.True(await fixture.Grains.GetGrain<IMcpTransportSessionGrain>(first).EndAsync(client, Ct));

        var admitted = await registry.MakeRoomAsync(McpTransportKind.Session, 2, Idle, Ct);

        Assert.Equal(new TransportAdmission(true, 1, 2, null, TimeSpan.Zero), admitted);
        Assert.Equal(Initialize, await TouchAsync(client, second));
    }

    [Fact]
    public async Task AnotherKeysCap_IsItsOwn()
    {
        var hog = $"cap-{Guid.NewGuid():N}";
        var hogs = fixture.Grains.GetGrain<IMcpClientTransportsGrain>(hog);
        await StartAsync(hog, hogs, 1);

        var refused = await hogs.MakeRoomAsync(McpTransportKind.Session, 1, Idle, Ct);
        var other = await fixture.Grains.GetGrain<IMcpClientTransportsGrain>($"cap-{Guid.NewGuid():N}").MakeRoomAsync(McpTransportKind.Session, 1, Idle, Ct);

        Assert.False(refused.Allowed);
        Assert.True(other.Allowed);
    }

    [Fact]
    public async Task AnotherClientsTouch_DoesNotKeepTheSessionAlive_NorMoveItsLastUse()
    {
        var session = fixture.Grains.GetGrain<IMcpTransportSessionGrain>($"mcp-{Guid.NewGuid():N}");
        await session.StartAsync("agent-a", Initialize, Ct);
        var started = await session.LastSeenAsync(Ct);

        await fixture.AdvanceAsync(TimeSpan.FromSeconds(1700));
        Assert.Null(await session.TouchAsync("agent-b", Ct));
        Assert.False(await session.EndAsync("agent-b", Ct));
        Assert.Equal(started, await session.LastSeenAsync(Ct));
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(101));

        Assert.Null(await session.LastSeenAsync(Ct));
        Assert.Null(await session.TouchAsync("agent-a", Ct));
    }

    [Fact]
    public async Task ConcurrentInitializes_GetOnlyTheRoomThereIs_AndRoomNotTakenUpIsFreedAfterTheHold()
    {
        var client = $"cap-{Guid.NewGuid():N}";
        var registry = fixture.Grains.GetGrain<IMcpClientTransportsGrain>(client);

        // Five initializes at once against a cap of 2: room is made (and held) for two; the SDK has created neither yet.
        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => registry.MakeRoomAsync(McpTransportKind.Session, 2, Idle, Ct)));
        var id = $"mcp-{Guid.NewGuid():N}";
        await fixture.Grains.GetGrain<IMcpTransportSessionGrain>(id).StartAsync(client, Initialize, Ct);
        var recorded = await registry.OpenAsync(McpTransportKind.Session, id, int.MaxValue, Idle, Ct); // As the SDK records one.
        var whileHeld = await registry.MakeRoomAsync(McpTransportKind.Session, 2, Idle, Ct);
        await fixture.AdvanceAsync(McpClientTransportsGrain.HoldFor);
        var afterTheHold = await registry.MakeRoomAsync(McpTransportKind.Session, 2, Idle, Ct);

        Assert.Equal(2, answers.Count(a => a.Allowed));
        Assert.Equal(2, recorded.Open); // The recorded session took its hold's place: one recorded, one still held.
        Assert.False(whileHeld.Allowed);
        Assert.Equal(2, whileHeld.Open);
        Assert.Equal(McpClientTransportsGrain.HoldFor, whileHeld.RetryAfter); // The hold lapses before the recorded one is idle.
        Assert.True(afterTheHold.Allowed); // The other initialize never recorded a session: its room came back.
        Assert.Equal(1, afterTheHold.Open);
    }
}
