using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Grains.Tools;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Api.Tests.Governance;

public sealed class ReceiptAppFixture : BrowserAppFixture
{
    // A cent per action and a (real-time) per-minute price, so the close's receipt carries the session's minutes.
    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Pricing:SessionMinuteUsd", "0.06"),
        ("Anchor:Pricing:ActionUsd", "0.01"),
        ("Anchor:Pricing:SessionReserveUsd", "0.05"),
        ($"Anchor:Clients:{ReceiptTests.BudgetHog}:Budget:DailyLimitUsd", "1000000"),
        ($"Anchor:Clients:{ReceiptTests.BudgetHog}:Budget:MonthlyLimitUsd", "1000000"),
        // The agent's own budget is well inside the cluster's, so only another tenant's spend can make the cluster its limit.
        ($"Anchor:Clients:{TestKeys.AgentClient}:Budget:DailyLimitUsd", "5"),
        ($"Anchor:Clients:{TestKeys.AgentClient}:Budget:MonthlyLimitUsd", "50"));
}

/// <summary>Every tool result carries a receipt; what receipts say a client spent is what the ledger and the log recorded.</summary>
public sealed class ReceiptTests(ReceiptAppFixture fixture) : IClassFixture<ReceiptAppFixture>
{
    /// <summary>Another tenant, allowed to reserve the whole cluster budget.</summary>
    internal const string BudgetHog = "budget-hog";

    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReceiptAndBudgetStatus_ShowTheCallersOwnFigures_AndOfTheCluster_OnlyThatItIsTheLimit()
    {
        var services = fixture.Host.Services;
        var budget = services.GetRequiredService<ISessionBudget>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var daily = (await services.GetRequiredService<BudgetStatus>().GetOverviewAsync(Ct)).Daily;
        var hogs = daily.LimitUsd - daily.SpentUsd - daily.ReservedUsd - 0.01m;
        await using var agent = await fixture.ConnectAsync(TestKeys.Agent);
        var before = await agent.CallAsync("budget_status");

        // Another tenant reserves all of the cluster's day but a cent.
        await budget.ReserveAsync("hog-session", BudgetHog, now, hogs, Ct);
        CallToolResult during;
        try
        {
            during = await agent.CallAsync("budget_status");
        }
        finally
        {
            await budget.SettleAsync("hog-session", BudgetHog, now, 0m, Ct);
        }

        var after = await agent.CallAsync("budget_status");
        var own = before.Json().GetProperty("daily").GetProperty("client").GetRawText();
        Assert.Equal(own, during.Json().GetProperty("daily").GetProperty("client").GetRawText());
        Assert.Equal(own, after.Json().GetProperty("daily").GetProperty("client").GetRawText());
        Assert.Equal((false, true, false), (Limited(before, "daily"), Limited(during, "daily"), Limited(after, "daily")));
        Assert.False(Limited(during, "monthly"));
        Assert.Equal(["client", "limited_by_cluster", "period"], during.Json().GetProperty("daily").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var receipt = Receipt(during);
        Assert.Equal(["limit_usd", "limited_by_cluster", "period", "remaining_usd", "reserved_usd", "spent_usd"], receipt["day"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.True(receipt["day"]!["limited_by_cluster"]!.GetValue<bool>());
        Assert.Equal(before.Json().GetProperty("daily").GetProperty("client").GetProperty("remaining_usd").GetDecimal(), receipt["day"]!["remaining_usd"]!.GetValue<decimal>());
        Assert.False(Receipt(after)["day"]!["limited_by_cluster"]!.GetValue<bool>());
        // Nothing of the other tenant's reservation, nor of the cluster's limit, reaches this tenant.
        var text = during.Text() + receipt.ToJsonString();
        Assert.DoesNotContain("global", text, StringComparison.Ordinal);
        Assert.DoesNotContain(hogs.ToString(System.Globalization.CultureInfo.InvariantCulture), text, StringComparison.Ordinal);
    }

    private static bool Limited(CallToolResult status, string period) => status.Json().GetProperty(period).GetProperty("limited_by_cluster").GetBoolean();

    [Fact]
    public async Task Receipts_OfAMixedRun_AddUpToTheLedgersChange_AndToTheLoggedCosts()
    {
        var client = TestKeys.OtherAgentClient;
        var ledger = fixture.Host.Services.GetRequiredService<IGrainFactory>().GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Day(DateTimeOffset.UtcNow));
        var before = await SpentAsync(ledger, client);
        var logsBefore = fixture.Host.Logs.Entries.Count;
        var agent = await fixture.ConnectAsync(TestKeys.OtherAgent);
        var extract = new { url = fixture.Site.Url("/list"), item_selector = "li.item", fields = new Dictionary<string, string> { ["name"] = $"h2.r{Guid.NewGuid():N}, h2" } };

        var calls = new List<(string Tool, CallToolResult Result)>();
        async Task<CallToolResult> Call(string tool, object? arguments = null)
        {
            var result = await agent.CallAsync(tool, arguments);
            calls.Add((tool, result));
            return result;
        }

        await Call("browser_navigate", new { url = fixture.Site.Url("/a") });             // opens the default session: 1 action
        await Call("browser_snapshot");                                                     // 1 action
        await Call("browser_click", new { target = "#missing" });                           // fails: no action charged
        var miss = await Call("browser_extract", extract);                                   // 1 action
        var hit = await Call("browser_extract", extract);                                    // served from the cache: nothing
        await Call("browser_run_task", new { url = fixture.Site.Url("/a"), steps = new object[] { new { action = "click", target = "text=to B" }, new { action = "wait", text = "This is B" } } }); // 3 actions
        await Call("budget_status");                                                        // free
        await Call("browser_evaluate", new { function = "() => 1" });                        // not allowed: refused
        var created = await Call("browser_session_create");
        var named = created.Json().GetProperty("session_id").GetString();
        await Call("browser_navigate", new { url = fixture.Site.Url("/b"), session_id = named }); // 1 action
        await Call("browser_session_close", new { session_id = named });                     // the named session's minutes
        var closed = await Call("browser_close");                                           // the default session's minutes

        var costs = calls.Select(c => (c.Tool, Cost: Receipt(c.Result)["cost_usd"]!.GetValue<decimal>())).ToList();
        Assert.Equal(
            [0.01m, 0.01m, 0m, 0.01m, 0m, 0.03m, 0m, 0m, 0m, 0.01m],
            costs.Take(10).Select(c => c.Cost));
        Assert.True(miss.IsError != true && hit.IsError != true, hit.Text());
        Assert.True(hit.Json().GetProperty("cached").GetBoolean());
        Assert.StartsWith("tool_not_allowed:", calls[7].Result.Text(), StringComparison.Ordinal);
        Assert.All(costs.TakeLast(2), c => Assert.InRange(c.Cost, 0.000001m, 0.06m)); // under a minute open each
        Assert.Equal("Browser closed.", closed.Text());

        var after = await SpentAsync(ledger, client);
        var receipts = costs.Sum(c => c.Cost);
        var logged = fixture.Host.Logs.Entries.Skip(logsBefore)
            .Where(e => e.Category == "Anchor.Orleans.Api.Mcp.ToolCalls" && Equals(e.Field("ClientId"), client))
            .Sum(e => (decimal)e.Field("CostUsd")!);
        Assert.Equal(0.07m, costs.Take(10).Sum(c => c.Cost));
        Assert.Equal(after.Spent - before.Spent, receipts);
        Assert.Equal(receipts, logged);
        Assert.Equal(before.Reserved, after.Reserved); // both sessions settled: nothing left held
    }

    [Fact]
    public async Task Receipt_ReportsTheSessionsCost_AndTheLedgersDayAndMonth()
    {
        var (agent, session) = await fixture.OpenSessionAsync(TestKeys.Operator);

        var navigated = await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = session });
        var status = await agent.CallAsync("budget_status");

        var receipt = Receipt(navigated);
        Assert.Equal(0.01m, receipt["cost_usd"]!.GetValue<decimal>());
        Assert.Equal(session, receipt["session_id"]!.GetValue<string>());
        Assert.InRange(receipt["session_cost_usd"]!.GetValue<decimal>(), 0.01m, 0.05m);
        var day = receipt["day"]!;
        var statusDay = status.Json().GetProperty("daily").GetProperty("client");
        Assert.Equal(BudgetPeriods.Day(DateTimeOffset.UtcNow), day["period"]!.GetValue<string>());
        Assert.Equal(0.05m, day["reserved_usd"]!.GetValue<decimal>()); // the session's first reservation, as the ledger holds it
        Assert.Equal(statusDay.GetProperty("reserved_usd").GetDecimal(), day["reserved_usd"]!.GetValue<decimal>());
        Assert.Equal(statusDay.GetProperty("limit_usd").GetDecimal(), day["limit_usd"]!.GetValue<decimal>());
        Assert.Equal(BudgetPeriods.Month(DateTimeOffset.UtcNow), receipt["month"]!["period"]!.GetValue<string>());
        var statusReceipt = Receipt(status);
        Assert.Equal(0m, statusReceipt["cost_usd"]!.GetValue<decimal>());
        Assert.Null(statusReceipt["session_id"]);
        await agent.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task UnknownTool_IsAProtocolError_AndNeverAMetricLabel()
    {
        var labels = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Anchor.Orleans" && instrument.Name == "anchor.tool.calls")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "tool")
                {
                    lock (labels)
                    {
                        labels.Add((string)tag.Value!);
                    }
                }
            }
        });
        listener.Start();
        var agent = await fixture.ConnectAsync(TestKeys.Operator);

        var error = await Assert.ThrowsAsync<McpProtocolException>(() => agent.CallToolAsync("browser_run_code_unsafe", cancellationToken: Ct).AsTask());
        await agent.CallAsync("budget_status");

        Assert.Equal(McpErrorCode.InvalidParams, error.ErrorCode);
        Assert.Contains("Unknown tool: 'browser_run_code_unsafe'", error.Message, StringComparison.Ordinal);
        lock (labels)
        {
            Assert.Contains("budget_status", labels);
            Assert.DoesNotContain("browser_run_code_unsafe", labels);
        }
    }

    [Fact]
    public void Catalogue_DeclaresEachToolsFacts_NextToTheTool()
    {
        var catalogue = fixture.Host.Services.GetRequiredService<ToolCatalogue>();

        string[] Names(Func<ToolFacts, bool> which) => [.. catalogue.All.Where(which).Select(t => t.Name).Order(StringComparer.Ordinal)];

        Assert.Equal(["browser_close", "browser_handoff", "browser_profile_delete", "browser_profile_list", "browser_session_close", "browser_session_list", "budget_status"], Names(t => t.Free));
        Assert.Equal(["browser_extract", "browser_navigate", "browser_run_task"], Names(t => t.Search));
        Assert.Equal(["browser_extract"], Names(t => t.Extraction));
        Assert.Equal(
            ["browser_evaluate", "browser_mouse_click_xy", "browser_mouse_down", "browser_mouse_drag_xy", "browser_mouse_move_xy", "browser_mouse_up", "browser_mouse_wheel"],
            Names(t => t.OptIn));
    }

    private static JsonObject Receipt(CallToolResult result) =>
        result.Meta?["anchor/receipt"]?.AsObject() ?? throw new Xunit.Sdk.XunitException($"no receipt on: {result.Text()}");

    private static async Task<(decimal Spent, decimal Reserved)> SpentAsync(IBudgetLedgerGrain ledger, string clientId)
    {
        var totals = await ledger.GetClientTotalsAsync(clientId, Ct);
        var mine = totals.Clients.GetValueOrDefault(clientId);
        return (mine?.SpentUsd ?? 0, mine?.ReservedUsd ?? 0);
    }
}
