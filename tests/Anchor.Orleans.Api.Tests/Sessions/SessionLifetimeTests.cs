using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Api.Tests.Sessions;

public sealed class ShortLivedAppFixture : BrowserAppFixture
{
    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Sessions:IdleTimeoutSeconds", "2"),
        ("Anchor:Sessions:MaxDurationSeconds", "12"),
        ("Anchor:Sessions:ActionTimeoutSeconds", "3"),
        ("Anchor:Sessions:CleanupIntervalSeconds", "1"));
}

/// <summary>Lifetimes on short configured values, waited for by polling with a deadline.</summary>
public sealed class SessionLifetimeTests(ShortLivedAppFixture fixture) : IClassFixture<ShortLivedAppFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task IdleSession_IsClosed_AndLaterCallsGetSessionExpired()
    {
        // Chromium launched first: a session's maximum (12 s) counts from its lease, and a launch on a loaded machine
        // can take most of it, ending the session as timed out before it could be idle for 2 s.
        var warm = await fixture.ConnectAsync(TestKeys.Operator);
        await warm.CallAsync("browser_close", new { session_id = (await warm.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString() });
        var client = await fixture.ConnectAsync(TestKeys.Agent);
        var session = (await client.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString();

        await Poll.UntilAsync(
            async () => (await client.CallAsync("browser_session_list")).Json().GetProperty("sessions").GetArrayLength(),
            n => n == 0,
            Deadline,
            "the idle session to be closed");
        var late = await client.CallAsync("browser_snapshot", new { session_id = session });

        Assert.True(late.IsError == true);
        Assert.StartsWith($"session_expired: session '{session}' ended at ", late.Text(), StringComparison.Ordinal);
        Assert.EndsWith("(idle); create a new session.", late.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BusySession_IsClosedAtItsMaximumDuration()
    {
        var client = await fixture.ConnectAsync(TestKeys.OtherAgent);
        var session = (await client.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString();

        // Keep it busy (never idle for 2 s) until the 12 s maximum ends it. The maximum is far from the idle
        // timeout on purpose: under load, opening the first browser can take seconds that count against it.
        var last = await Poll.UntilAsync(
            () => client.CallAsync("browser_snapshot", new { session_id = session }),
            r => r.IsError == true,
            Deadline,
            "the session to reach its maximum duration",
            interval: TimeSpan.FromMilliseconds(500));

        Assert.StartsWith($"session_expired: session '{session}' ended at ", last.Text(), StringComparison.Ordinal);
        Assert.EndsWith("(timed_out); create a new session.", last.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sweep_FreesTheSlotOfASessionWhoseSiloDied_WithinTheCleanupInterval()
    {
        var registry = fixture.Host.Services.GetRequiredService<IGrainFactory>().GetGrain<ISessionRegistryGrain>(0);
        var session = $"s-dead-{Guid.NewGuid():N}";
        var before = await registry.GetCleanupStatsAsync();
        await registry.AcquireAsync(session, "someone", "127.0.0.1:1@1", maxPerClient: 3, TestContext.Current.CancellationToken);

        // Nobody calls the session: only the sweep (every second here) can find it.
        await Poll.UntilAsync(async () => (await registry.ListAsync()).All(l => l.SessionId != session), Deadline, "the sweep to free the dead silo's lease");
        var ended = await registry.GetEndedAsync(session, "someone");
        var after = await registry.GetCleanupStatsAsync();

        Assert.Equal(SessionEndReason.Lost, ended!.Reason);
        Assert.True(after.Succeeded > before.Succeeded);
    }

    [Fact]
    public async Task SlowPage_IsRefusedWithTimeout_AfterTheActionTimeout()
    {
        var client = await fixture.ConnectAsync(TestKeys.Operator);

        var slow = await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/slow?ms=10000") });

        Assert.True(slow.IsError == true);
        Assert.StartsWith("timeout: navigate did not finish within 3 s (", slow.Text(), StringComparison.Ordinal);
        await client.CallAsync("browser_close");
    }
}

/// <summary>Operators list every session in the cluster and close any of them.</summary>
public sealed class SessionsApiTests(BrowserAppFixture fixture) : IClassFixture<BrowserAppFixture>
{
    [Fact]
    public async Task Operator_ListsAndClosesAClientsSession()
    {
        var ct = TestContext.Current.CancellationToken;
        var agent = await fixture.ConnectAsync(TestKeys.Agent);
        var session = (await agent.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString();
        await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = session });
        var http = fixture.Host.CreateClient(TestKeys.Operator);

        var listed = await http.GetFromJsonAsync<JsonElement>("/api/sessions", ct);
        using var deleted = await http.DeleteAsync($"/api/sessions/{session}", ct);
        using var again = await http.DeleteAsync($"/api/sessions/{session}", ct);
        using var asAgent = await fixture.Host.CreateClient(TestKeys.Agent).GetAsync("/api/sessions", ct);
        var after = await agent.CallAsync("browser_snapshot", new { session_id = session });

        var entry = Assert.Single(listed.GetProperty("sessions").EnumerateArray(), s => s.GetProperty("session_id").GetString() == session);
        Assert.Equal(TestKeys.AgentClient, entry.GetProperty("client_id").GetString());
        Assert.Equal(fixture.Site.Url("/a"), entry.GetProperty("url").GetString());
        Assert.Equal(1, entry.GetProperty("actions").GetInt32());
        Assert.True(entry.GetProperty("age_seconds").GetDouble() >= 0);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal("session_not_found", (await again.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("type").GetString());
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, asAgent.StatusCode);
        Assert.EndsWith("(operator); create a new session.", after.Text(), StringComparison.Ordinal);
    }
}
