using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Api.Tests.Timeline;

public sealed class TimelineAppFixture : BrowserAppFixture
{
    // Minutes cost something, so a close charges more than the actions and the closed event's share shows.
    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Pricing:SessionMinuteUsd", "0.6"),
        ("Anchor:Pricing:ActionUsd", "0.01"),
        ("Anchor:Pricing:SessionReserveUsd", "0.5"));
}

/// <summary>
/// A real session driven through the MCP client, then its timeline read as an operator: each call in order with its
/// arguments masked, its outcome, its receipt's cost and the URL after; and the timeline's costs against the ledger.
/// </summary>
public sealed class TimelineApiTests(TimelineAppFixture fixture) : IClassFixture<TimelineAppFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Timeline_ListsEachCallMasked_WithItsReceiptCost_AndAddsUpToTheLedger_WhenTheToolCloses()
    {
        var spentBefore = await SpentAsync();
        var (agent, session) = await fixture.OpenSessionAsync();
        var calls = new List<(string Tool, CallToolResult Result)>();
        async Task CallAsync(string tool, object arguments) => calls.Add((tool, await agent.CallAsync(tool, arguments)));

        await CallAsync("browser_navigate", new { url = fixture.Site.Url("/login"), session_id = session });
        await CallAsync("browser_type", new { target = "input[name=password]", element = "Password", text = "s3cret-pw", session_id = session });
        await CallAsync("browser_type", new { target = "input[name=user]", element = "User", text = "ada", session_id = session });
        await CallAsync("browser_navigate", new { url = fixture.Site.Url("/a?page=2&token=abc123"), session_id = session });
        using (var operatorClient = fixture.Host.CreateClient(TestKeys.Operator))
        {
            var listed = await operatorClient.GetFromJsonAsync<JsonElement>("/api/sessions", Ct);
            var row = listed.GetProperty("sessions").EnumerateArray().Single(s => s.GetProperty("session_id").GetString() == session);
            Assert.Equal(fixture.Site.Url("/a?page=2&token=(hidden, 6 characters)"), row.GetProperty("url").GetString());
        }

        await CallAsync("browser_session_close", new { session_id = session });

        var view = await TimelineWhenClosedAsync(session, closeCall: true);
        var entries = view.GetProperty("entries").EnumerateArray().ToList();
        var callEntries = entries.Where(e => e.GetProperty("kind").GetString() == "call").ToList();

        Assert.All(calls, c => Assert.True(c.Result.IsError != true, c.Result.Text()));
        Assert.Equal(calls.Select(c => c.Tool), callEntries.Select(e => e.GetProperty("name").GetString()));
        Assert.Equal(calls.Select(c => Receipt(c.Result)), callEntries.Select(e => e.GetProperty("cost_usd").GetDecimal()));
        Assert.All(callEntries, e => Assert.Equal("success", e.GetProperty("outcome").GetString()));
        Assert.Equal("(hidden, 9 characters)", callEntries[1].GetProperty("arguments").GetProperty("text").GetString());
        Assert.Equal("ada", callEntries[2].GetProperty("arguments").GetProperty("text").GetString());
        Assert.Equal(fixture.Site.Url("/a?page=2&token=(hidden, 6 characters)"), callEntries[3].GetProperty("arguments").GetProperty("url").GetString());
        Assert.False(callEntries[0].GetProperty("arguments").TryGetProperty("session_id", out _));
        Assert.Equal(
            [fixture.Site.Url("/login"), fixture.Site.Url("/login"), fixture.Site.Url("/login"), fixture.Site.Url("/a?page=2&token=(hidden, 6 characters)")],
            callEntries.Take(4).Select(e => e.GetProperty("url").GetString()));
        Assert.Equal("opened", entries[0].GetProperty("name").GetString());
        var closed = entries.Single(e => e.GetProperty("name").GetString() == "closed");
        Assert.Equal(("completed", 0m), (closed.GetProperty("outcome").GetString(), closed.GetProperty("cost_usd").GetDecimal()));
        Assert.True(Receipt(calls[^1].Result) > 0m, "the close's receipt carries the open minutes");
        Assert.DoesNotContain("s3cret-pw", view.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("abc123", view.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(await SpentAsync() - spentBefore, entries.Sum(e => e.GetProperty("cost_usd").GetDecimal()));
        Assert.Equal(entries.Sum(e => e.GetProperty("cost_usd").GetDecimal()), view.GetProperty("total_cost_usd").GetDecimal());
    }

    [Fact]
    public async Task Timeline_CarriesTheCloseCharge_OnTheClosedEvent_WhenAnOperatorCloses()
    {
        var spentBefore = await SpentAsync();
        var (agent, session) = await fixture.OpenSessionAsync();
        var navigated = await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = session });
        using var operatorClient = fixture.Host.CreateClient(TestKeys.Operator);

        var deleted = await operatorClient.DeleteAsync($"/api/sessions/{session}", Ct);
        var view = await TimelineWhenClosedAsync(session, closeCall: false);
        var entries = view.GetProperty("entries").EnumerateArray().ToList();
        var closed = entries.Single(e => e.GetProperty("name").GetString() == "closed");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(["opened", "browser_navigate", "closed"], entries.Select(e => e.GetProperty("name").GetString()));
        Assert.Equal(Receipt(navigated), entries[1].GetProperty("cost_usd").GetDecimal());
        Assert.Equal("operator", closed.GetProperty("outcome").GetString());
        Assert.True(closed.GetProperty("cost_usd").GetDecimal() > 0m, "the close charged the open minutes");
        Assert.Equal(await SpentAsync() - spentBefore, entries.Sum(e => e.GetProperty("cost_usd").GetDecimal()));
    }

    [Fact]
    public async Task Timeline_AnswersNotFound_ForASessionWithNoTimeline_AndRefusesAgents()
    {
        using var operatorClient = fixture.Host.CreateClient(TestKeys.Operator);
        using var agentClient = fixture.Host.CreateClient(TestKeys.Agent);

        var unknown = await operatorClient.GetAsync("/api/sessions/no-such-session/timeline", Ct);
        var asAgent = await agentClient.GetAsync("/api/sessions/no-such-session/timeline", Ct);

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("session_not_found", (await unknown.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, asAgent.StatusCode);
    }

    /// <summary>The timeline once its closed event (and, for a close by the tool, that call's entry) has been written: entries are queued.</summary>
    private async Task<JsonElement> TimelineWhenClosedAsync(string session, bool closeCall)
    {
        using var operatorClient = fixture.Host.CreateClient(TestKeys.Operator);
        return await Poll.UntilAsync(
            async () =>
            {
                var response = await operatorClient.GetAsync($"/api/sessions/{session}/timeline", Ct);
                return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonElement>(Ct) : default;
            },
            view => view.ValueKind == JsonValueKind.Object && view.GetProperty("entries").EnumerateArray() is var entries
                && entries.Any(e => e.GetProperty("name").GetString() == "closed")
                && (!closeCall || entries.Any(e => e.GetProperty("name").GetString() == "browser_session_close")),
            TimeSpan.FromSeconds(10),
            "the closed session's timeline");
    }

    private static decimal Receipt(CallToolResult result) =>
        result.Meta?["anchor/receipt"]?["cost_usd"]?.GetValue<decimal>() ?? throw new Xunit.Sdk.XunitException($"no receipt on: {result.Text()}");

    private async Task<decimal> SpentAsync()
    {
        var ledger = fixture.Host.Services.GetRequiredService<IGrainFactory>().GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Day(DateTimeOffset.UtcNow));
        var totals = await ledger.GetClientTotalsAsync(TestKeys.AgentClient, Ct);
        return totals.Clients.GetValueOrDefault(TestKeys.AgentClient)?.SpentUsd ?? 0m;
    }
}
