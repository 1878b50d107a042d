using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Grains.Timeline;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Api.Tests.Timeline;

/// <summary>A silo whose grain storage (and so its timelines) is a real <c>redis-server</c>.</summary>
public sealed class RedisTimelineFixture : BrowserAppFixture
{
    public RedisServer Redis { get; } = new();

    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Storage:Provider", "Redis"),
        ("Anchor:Redis:ConnectionString", Redis.ConnectionString));

    public override async ValueTask InitializeAsync()
    {
        await Redis.InitializeAsync();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

/// <summary>In Redis mode the timeline is kept in Redis (every silo reads the same), with the session's live events.</summary>
public sealed class RedisTimelineTests(RedisTimelineFixture fixture) : IClassFixture<RedisTimelineFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Timeline_IsKeptInRedis_WithTheHandoffAndTheClose()
    {
        var (agent, session) = await fixture.OpenSessionAsync();
        await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = session });
        var handoff = await agent.CallAsync("browser_handoff", new { reason = "Sign in, please.", session_id = session });
        await agent.CallAsync("browser_session_close", new { session_id = session });
        using var operatorClient = fixture.Host.CreateClient(TestKeys.Operator);

        var view = await Poll.UntilAsync(
            async () =>
            {
                var response = await operatorClient.GetAsync($"/api/sessions/{session}/timeline", Ct);
                return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonElement>(Ct) : default;
            },
            v => v.ValueKind == JsonValueKind.Object && v.GetProperty("entries").GetArrayLength() == 6,
            TimeSpan.FromSeconds(10),
            "the timeline of the closed session");
        var stored = await fixture.Host.Services.GetRequiredService<RedisSessionTimeline>().ReadAsync(session, Ct);

        Assert.True(handoff.IsError != true, handoff.Text());
        Assert.Equal(
            ["opened", "browser_navigate", "browser_handoff", "control_taken", "browser_session_close", "closed"],
            view.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        Assert.Equal(6, stored!.Entries.Count);
        Assert.Equal(TestKeys.AgentClient, stored.ClientId);
        Assert.Equal(stored.TotalCostUsd, view.GetProperty("total_cost_usd").GetDecimal());
        Assert.Contains(await fixture.Host.Services.GetRequiredService<ISessionTimeline>().RecentAsync(TestKeys.AgentClient, 10, Ct), s => s.SessionId == session && s.Closed);
    }
}
