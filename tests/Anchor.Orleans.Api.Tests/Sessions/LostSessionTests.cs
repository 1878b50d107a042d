using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Timeline;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Api.Tests.Sessions;

/// <summary>A lease left behind by a silo that died: the next call reports the loss and the sweep frees the slot.</summary>
public sealed class LostSessionTests(BrowserAppFixture fixture) : IClassFixture<BrowserAppFixture>
{
    // A silo address no cluster member has: the registry treats its leases as lost.
    private const string DeadSilo = "127.0.0.1:1@1";

    [Fact]
    public async Task OrphanedLease_AnswersSessionExpired_AndFreesTheSlot()
    {
        var grains = fixture.Host.Services.GetRequiredService<IGrainFactory>();
        var registry = grains.GetGrain<ISessionRegistryGrain>(0);
        var session = $"s-orphan-{Guid.NewGuid():N}";
        var lease = await registry.AcquireAsync(session, TestKeys.AgentClient, DeadSilo, maxPerClient: 5, TestContext.Current.CancellationToken);
        Assert.True(lease.Granted);
        var client = await fixture.ConnectAsync(TestKeys.Agent);

        var call = await client.CallAsync("browser_snapshot", new { session_id = session });
        var ended = await registry.GetEndedAsync(session, TestKeys.AgentClient);
        var leases = await registry.ListAsync(TestKeys.AgentClient);

        Assert.True(call.IsError == true);
        Assert.StartsWith($"session_expired: session '{session}' ended at ", call.Text(), StringComparison.Ordinal);
        Assert.EndsWith("(lost); create a new session.", call.Text(), StringComparison.Ordinal);
        Assert.Equal(SessionEndReason.Lost, ended!.Reason);
        Assert.DoesNotContain(leases, l => l.SessionId == session);
        var timeline = await Poll.UntilAsync(
            () => fixture.Host.Services.GetRequiredService<ISessionTimeline>().ReadAsync(session, TestContext.Current.CancellationToken),
            t => t is { Entries.Count: > 0 },
            TimeSpan.FromSeconds(10),
            "the lost session's timeline to be written");
        var closed = Assert.Single(timeline!.Entries, e => e.Name == TimelineEvents.Closed);
        Assert.Equal(("lost", "closed (lost) by the registry: its silo no longer held it", TestKeys.AgentClient), (closed.Outcome, closed.Detail, closed.ClientId));
    }

    [Fact]
    public async Task DefaultSession_ReportsTheLossOnce_ThenOpensAFreshBrowser()
    {
        var grains = fixture.Host.Services.GetRequiredService<IGrainFactory>();
        var registry = grains.GetGrain<ISessionRegistryGrain>(0);
        var lease = await registry.AcquireAsync($"default-{TestKeys.OtherAgentClient}", TestKeys.OtherAgentClient, DeadSilo, maxPerClient: 5, TestContext.Current.CancellationToken);
        Assert.True(lease.Granted);
        var client = await fixture.ConnectAsync(TestKeys.OtherAgent);

        var first = await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a") });
        var second = await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a") });

        Assert.StartsWith("session_expired:", first.Text(), StringComparison.Ordinal);
        Assert.True(second.IsError != true, second.Text());
        Assert.Contains("- Page Title: Page A", second.Text(), StringComparison.Ordinal);
        await client.CallAsync("browser_close");
    }
}
