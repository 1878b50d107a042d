using System.Text;
using System.Text.Json.Nodes;
using Anchor.Orleans.Api.Tests.Profiles;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions;
using Anchor.Orleans.Grains.Sessions.Moves;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Anchor.Orleans.Api.Tests.Sessions;

/// <summary>
/// A page that takes its silo down would take each next silo down when its checkpoint replays it: a session is restored
/// after losing its silo at most <see cref="SessionRestores.MaxLossRestores"/> times, then ended, settled and forgotten.
/// (The losses are staged: a real checkpoint is copied under a new session id with its count set, and that session's
/// lease is held by a silo that is gone.)
/// </summary>
public sealed class LossRestoreTests(RedisBrowserFixture fixture) : IClassFixture<RedisBrowserFixture>
{
    private const string DeadSilo = "127.0.0.1:1@1";
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task SessionLostAgain_AfterTwoRestores_IsNotRestored_ButClosedAndSettled_WhileOneRestoreMoreIsAllowed()
    {
        await using var agent = await McpTestClient.ConnectAsync(fixture.Host, TestKeys.Agent);
        var source = (await agent.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString()!;
        await agent.CallAsync("browser_navigate", new { session_id = source, url = fixture.Site.Url("/a") });
        await Poll.UntilAsync(() => CheckpointAsync(source), c => c?["Actions"]?.GetValue<int>() == 1, TimeSpan.FromSeconds(30), "the source session's checkpoint");
        var template = (await CheckpointAsync(source))!;
        string sourceKey;
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString))
        {
            sourceKey = (await CheckpointKeyAsync(redis, source))!;
        }

        await agent.CallAsync("browser_session_close", new { session_id = source });
        string KeyOf(string session) => sourceKey.Replace($"/{source}/", $"/{session}/", StringComparison.Ordinal);

        var once = await StageLostSessionAsync(template, KeyOf, lossRestores: 1);
        var restored = await agent.CallAsync("browser_snapshot", new { session_id = once });
        await agent.CallAsync("browser_navigate", new { session_id = once, url = fixture.Site.Url("/b") });
        var counted = await Poll.UntilAsync(() => CheckpointAsync(once), c => c?["LossRestores"]?.GetValue<int>() == 2, TimeSpan.FromSeconds(30), "the restored session's checkpoint");
        await agent.CallAsync("browser_session_close", new { session_id = once });

        var thrice = await StageLostSessionAsync(template, KeyOf, lossRestores: 2);
        var refused = await agent.CallAsync("browser_snapshot", new { session_id = thrice });
        var ended = await Registry.GetEndedAsync(thrice, TestKeys.AgentClient);
        var leases = await Registry.ListAsync(TestKeys.AgentClient);

        Assert.StartsWith("### Session restored\nThis session moved to another silo (its silo was lost)", restored.Text(), StringComparison.Ordinal);
        Assert.Equal(2, counted!["LossRestores"]!.GetValue<int>());
        Assert.True(refused.IsError == true);
        Assert.Equal(
            $"browser_error: session '{thrice}' lost its silo again after being restored 2 times; it is not restored again (a page that takes a silo down would take the next one down too) and was closed. Create a new session.",
            refused.Text());
        Assert.Equal(SessionEndReason.Failed, ended!.Reason);
        Assert.DoesNotContain(leases, l => l.SessionId == thrice);
        Assert.Null(await CheckpointAsync(thrice));
    }

    private ISessionRegistryGrain Registry => fixture.Host.Services.GetRequiredService<IGrainFactory>().GetGrain<ISessionRegistryGrain>(0);

    /// <summary>A session of the agent's whose silo died, with <paramref name="template"/> as its last checkpoint.</summary>
    private async Task<string> StageLostSessionAsync(JsonObject template, Func<string, string> keyOf, int lossRestores)
    {
        var session = $"s-lost-{Guid.NewGuid():N}";
        var checkpoint = (JsonObject)template.DeepClone();
        checkpoint["LossRestores"] = lossRestores;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        await redis.GetDatabase().HashSetAsync(
            keyOf(session), [new HashEntry("data", Encoding.UTF8.GetBytes(checkpoint.ToJsonString())), new HashEntry("etag", Guid.NewGuid().ToString("N"))]);
        Assert.True((await Registry.AcquireAsync(session, TestKeys.AgentClient, DeadSilo, maxPerClient: 5, Ct)).Granted);
        return session;
    }

    /// <summary>The stored checkpoint of <paramref name="session"/> (Orleans' grain storage writes JSON), or null.</summary>
    private async Task<JsonObject?> CheckpointAsync(string session)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        if (await CheckpointKeyAsync(redis, session) is not { } key)
        {
            return null;
        }

        var data = await redis.GetDatabase().HashGetAsync(key, "data");
        return data.IsNullOrEmpty ? null : JsonNode.Parse(Encoding.UTF8.GetString((byte[])data!))!.AsObject();
    }

    /// <summary>
    /// The Redis key of <paramref name="session"/>'s checkpoint, or null: Orleans' Redis grain storage keeps each state in
    /// a hash at "&lt;service id&gt;/state/&lt;grain id&gt;/&lt;state name&gt;".
    /// </summary>
    private static async Task<string?> CheckpointKeyAsync(ConnectionMultiplexer redis, string session)
    {
        await foreach (var key in redis.GetServer(redis.GetEndPoints()[0]).KeysAsync(pattern: $"*/state/browsersession/{session}/session-checkpoint"))
        {
            return key.ToString();
        }

        return null;
    }
}
