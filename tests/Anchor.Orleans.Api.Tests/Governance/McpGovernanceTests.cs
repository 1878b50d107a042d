using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.Governance;

public sealed class GovernedAppFixture : BrowserAppFixture
{
    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Clients:agent-b:RateLimit:MaxRequests", "3"),
        ("Anchor:Clients:agent-a:Tools:Deny:0", "browser_take_screenshot"),
        ("Anchor:Clients:agent-a:Tools:Deny:1", "browser_run_*"),
        ("Anchor:Clients:agent-a:Budget:DailyLimitUsd", "0.3"));
}

/// <summary>Admission through MCP, in one place for every tool: tool policy, rate limit, budgets, and the switch.</summary>
public sealed class McpGovernanceTests(GovernedAppFixture fixture) : IClassFixture<GovernedAppFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task DeniedTools_AreHiddenFromTheList_AndRefusedIfCalled()
    {
        // agent-a, not the rate-limited agent-b: a denied call counts against the caller's tool-call limit too.
        var limited = await fixture.ConnectAsync(TestKeys.Agent);
        var other = await fixture.ConnectAsync(TestKeys.Operator);

        var visible = (await limited.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).ToList();
        var all = (await other.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).ToList();
        var call = await limited.CallAsync("browser_take_screenshot");

        Assert.DoesNotContain("browser_take_screenshot", visible);
        Assert.DoesNotContain("browser_run_task", visible);
        Assert.Contains("browser_navigate", visible);
        Assert.Equal(all.Count - 2, visible.Count);
        Assert.True(call.IsError == true);
        Assert.Equal("tool_not_allowed: browser_take_screenshot is not allowed for this client.", call.Text());
    }

    [Fact]
    public async Task RateLimit_RefusesPastTheClientsWindow_WithRetryAfter()
    {
        var limited = await fixture.ConnectAsync(TestKeys.OtherAgent);

        // Call until refused: the fourth call at the latest.
        var results = new List<ModelContextProtocol.Protocol.CallToolResult>();
        for (var i = 0; i < 4 && results.All(r => r.IsError != true); i++)
        {
            results.Add(await limited.CallAsync("budget_status"));
        }

        var refused = results[^1];
        Assert.True(refused.IsError == true);
        Assert.Matches(@"^rate_limited: .*3 .*retry after [0-9]+ s", refused.Text());
    }

    [Fact]
    public async Task Budget_RefusesASessionThatWouldCrossTheClientsDailyLimit()
    {
        var agent = await fixture.ConnectAsync(TestKeys.Agent);

        var first = await agent.CallAsync("browser_session_create");
        var second = await agent.CallAsync("browser_session_create");
        var status = (await agent.CallAsync("budget_status")).Json();

        Assert.True(first.IsError != true, first.Text());
        Assert.True(second.IsError == true);
        Assert.StartsWith("budget_exceeded:", second.Text(), StringComparison.Ordinal);
        Assert.Contains("daily", second.Text(), StringComparison.Ordinal);
        Assert.Equal(TestKeys.AgentClient, status.GetProperty("client_id").GetString());
        Assert.Equal(0.3m, status.GetProperty("daily").GetProperty("client").GetProperty("limit_usd").GetDecimal());
        Assert.Equal(0.25m, status.GetProperty("daily").GetProperty("client").GetProperty("reserved_usd").GetDecimal());
        Assert.Equal(0.05m, status.GetProperty("daily").GetProperty("client").GetProperty("remaining_usd").GetDecimal());
        await agent.CallAsync("browser_session_close", new { session_id = first.Json().GetProperty("session_id").GetString() });
    }

}
