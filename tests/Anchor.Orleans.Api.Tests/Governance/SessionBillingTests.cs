using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.Governance;

public sealed class BillingAppFixture : BrowserAppFixture
{
    // Prices chosen so every figure is exact: actions only, one cent each, reserved a cent at a time.
    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Pricing:SessionMinuteUsd", "0"),
        ("Anchor:Pricing:ActionUsd", "0.01"),
        ("Anchor:Pricing:SessionReserveUsd", "0.01"),
        ("Anchor:Clients:agent-a:Budget:DailyLimitUsd", "0.03"));
}

/// <summary>A session pays as it goes: it reserves before each action it cannot cover, and settles what it used.</summary>
public sealed class SessionBillingTests(BillingAppFixture fixture) : IClassFixture<BillingAppFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Session_TopsUpPerAction_StopsAtTheLimit_AndSettlesWhatItUsed()
    {
        var agent = await fixture.ConnectAsync(TestKeys.Agent);
        var session = (await agent.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString();

        var results = new List<ModelContextProtocol.Protocol.CallToolResult>();
        for (var i = 0; i < 4; i++)
        {
            results.Add(await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = session }));
        }

        var during = await agent.CallAsync("budget_status");
        await agent.CallAsync("browser_session_close", new { session_id = session });
        var budget = await fixture.Host.CreateClient(TestKeys.Operator).GetFromJsonAsync<JsonElement>("/api/budget", Ct);

        Assert.All(results.Take(3), r => Assert.True(r.IsError != true, r.Text()));
        Assert.True(results[3].IsError == true);
        Assert.StartsWith("budget_exceeded:", results[3].Text(), StringComparison.Ordinal);
        Assert.Equal(0.03m, during.Json().GetProperty("daily").GetProperty("client").GetProperty("reserved_usd").GetDecimal());
        Assert.Equal(0m, during.Json().GetProperty("daily").GetProperty("client").GetProperty("remaining_usd").GetDecimal());
        var client = budget.GetProperty("daily").GetProperty("clients").EnumerateArray().Single(c => c.GetProperty("client_id").GetString() == TestKeys.AgentClient);
        Assert.Equal(0.03m, client.GetProperty("spent_usd").GetDecimal());
        Assert.Equal(0m, client.GetProperty("reserved_usd").GetDecimal());
        Assert.Equal(1, client.GetProperty("sessions_settled").GetInt64());
    }
}
