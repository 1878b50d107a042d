using Anchor.Orleans.Grains.Interfaces.Mcp;

namespace Anchor.Orleans.Grains.Tests.Mcp;

[Collection(ClusterCollection.Name)]
public sealed class McpTransportSessionGrainTests(ClusterFixture fixture)
{
    private const string Initialize = """{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}""";
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private IMcpTransportSessionGrain NewSession() => fixture.Grains.GetGrain<IMcpTransportSessionGrain>($"mcp-{Guid.NewGuid():N}");

    [Fact]
    public async Task Touch_AnswersTheInitializeParams_OnlyToTheClientThatStartedIt()
    {
        var session = NewSession();
        Assert.Null(await session.TouchAsync("agent-a", Ct));

        await session.StartAsync("agent-a", Initialize, Ct);

        Assert.Equal(Initialize, await session.TouchAsync("agent-a", Ct));
        Assert.Null(await session.TouchAsync("agent-b", Ct));
        Assert.False(await session.EndAsync("agent-b", Ct));
        Assert.Equal(Initialize, await session.TouchAsync("agent-a", Ct));
    }

    [Fact]
    public async Task Session_EndsAfterTheIdleTimeout_ButNotWhileItIsUsed()
    {
        var session = NewSession();
        await session.StartAsync("agent-a", Initialize, Ct);

        await fixture.AdvanceAsync(TimeSpan.FromSeconds(1700));
        Assert.Equal(Initialize, await session.TouchAsync("agent-a", Ct));
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(1700));
        Assert.Equal(Initialize, await session.TouchAsync("agent-a", Ct));
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(1801));

        Assert.Null(await session.TouchAsync("agent-a", Ct));
        Assert.Null(await session.TouchAsync("agent-a", Ct));
    }

    [Fact]
    public async Task End_ByItsClient_EndsTheSessionForGood()
    {
        var session = NewSession();
        await session.StartAsync("agent-a", Initialize, Ct);

        Assert.True(await session.EndAsync("agent-a", Ct));
        Assert.Null(await session.TouchAsync("agent-a", Ct));
        Assert.False(await session.EndAsync("agent-a", Ct));
    }
}
