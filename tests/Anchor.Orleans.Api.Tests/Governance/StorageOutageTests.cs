using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Api.Tests.Governance;

/// <summary>Redis gone: tool calls are refused with the stable storage_unavailable code instead of failing obscurely.</summary>
public sealed class StorageOutageTests
{
    [Fact]
    public async Task ToolCalls_AreRefusedWithStorageUnavailable_WhileRedisIsDown()
    {
        var redis = new RedisServer();
        await redis.InitializeAsync();
        await using var host = await StartOnAsync(redis);
        await using var agent = await McpTestClient.ConnectAsync(host, TestKeys.Agent);
        var before = await agent.CallAsync("budget_status");
        Assert.True(before.IsError != true, before.Text());

        await redis.DisposeAsync();
        var during = await agent.CallAsync("budget_status");

        Assert.True(during.IsError == true);
        Assert.StartsWith("storage_unavailable:", during.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionCreate_ThatCannotPersistItsLease_HoldsNoSlot()
    {
        var redis = new RedisServer();
        await redis.InitializeAsync();
        await using var host = await StartOnAsync(redis);
        await using var agent = await McpTestClient.ConnectAsync(host, TestKeys.Agent);
        var first = await agent.CallAsync("browser_session_create");
        await agent.CallAsync("browser_session_close", new { session_id = first.Json().GetProperty("session_id").GetString() });

        await redis.DisposeAsync();
        var refused = await agent.CallAsync("browser_session_create");
        var leases = await host.Services.GetRequiredService<IGrainFactory>().GetGrain<ISessionRegistryGrain>(0).ListAsync();

        Assert.StartsWith("storage_unavailable:", refused.Text(), StringComparison.Ordinal);
        Assert.Empty(leases);
    }

    /// <summary>A silo whose grain storage is <paramref name="redis"/>, with Redis timeouts short enough to see an outage at once.</summary>
    private static Task<AnchorAppHost> StartOnAsync(RedisServer redis) => AnchorAppHost.StartAsync(BrowserAppFixture.BaseSettings(
        ("Anchor:Storage:Provider", "Redis"),
        ("Anchor:Redis:ConnectionString", redis.ConnectionString + ",connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000")));
}
