using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Observability.Tests;

/// <summary>A scripted agent run, then exact counts from <c>/metrics</c> and <c>/api/metrics</c>.</summary>
public sealed class MetricsTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private const string MetricsToken = "metrics-token-for-tests-4b1d";
    private readonly FixtureSite _site = new();
    private AnchorAppHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        await _site.InitializeAsync();
        var settings = TestKeys.Settings();
        settings["Anchor:Browser:AllowedHosts:0"] = FixtureSite.Host;
        settings["Anchor:Metrics:Token"] = MetricsToken;
        _host = await AnchorAppHost.StartAsync(settings);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _site.DisposeAsync();
    }

    private async Task<string> ScrapeAsync()
    {
        var client = _host.CreateClient(MetricsToken);
        return await client.GetStringAsync("/metrics", Ct);
    }

    [Fact]
    public async Task ScriptedRun_ProducesExactCounts()
    {
        await using (var agent = await McpTestClient.ConnectAsync(_host, TestKeys.Agent))
        {
            var session = (await agent.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString();
            await agent.CallAsync("browser_navigate", new { url = _site.Url("/list"), session_id = session });
            var extract = new { url = _site.Url("/list"), item_selector = "li.item", fields = new Dictionary<string, string> { ["name"] = "h2", ["price"] = ".price" }, session_id = session };
            await agent.CallAsync("browser_extract", extract);
            await agent.CallAsync("browser_extract", extract);
            await agent.CallAsync("browser_navigate", new { url = "http://10.0.0.1/", session_id = session });
            await agent.CallAsync("browser_session_close", new { session_id = session });
        }

        var text = await Poll.UntilAsync(ScrapeAsync, t => PrometheusText.Sum(t, "anchor_sessions_ended_total") >= 1, TimeSpan.FromSeconds(30), "the session end to be exported");

        Assert.Equal(1, PrometheusText.Sum(text, "anchor_sessions_created_total"));
        Assert.Equal(1, PrometheusText.Sum(text, "anchor_sessions_ended_total", ("reason", "completed")));
        Assert.Equal(0, PrometheusText.Sum(text, "anchor_sessions_active"));
        Assert.Equal(1, PrometheusText.Sum(text, "anchor_session_duration_seconds_count"));
        Assert.Equal(1, PrometheusText.Sum(text, "anchor_tool_calls_total", ("tool", "browser_session_create"), ("outcome", "success")));
        Assert.Equal(1, PrometheusText.Sum(text, "anchor_tool_calls_total", ("tool", "browser_navigate"), ("outcome", "success")));
        Assert.Equal(1, PrometheusText.Sum(text, "anchor_tool_calls_total", ("tool", "browser_navigate"), ("outcome", "refused")));
        Assert.Equal(2, PrometheusText.Sum(text, "anchor_tool_calls_total", ("tool", "browser_extract"), ("outcome", "success")));
        Assert.Equal(1, PrometheusText.Sum(text, "anchor_tool_calls_total", ("tool", "browser_session_close"), ("outcome", "success")));
        Assert.Equal(6, PrometheusText.Sum(text, "anchor_tool_call_duration_seconds_count"));
        Assert.Equal(1, PrometheusText.Sum(text, "anchor_cache_requests_total", ("result", "hit")));
        Assert.Equal(1, PrometheusText.Sum(text, "anchor_cache_requests_total", ("result", "miss")));
        Assert.Equal(1, PrometheusText.Sum(text, "anchor_extract_completeness_count"));
        Assert.Equal(5.0 / 6.0, PrometheusText.Sum(text, "anchor_extract_completeness_sum"), 3);
        Assert.Equal(1, PrometheusText.Sum(text, "anchor_cleanup_total", ("outcome", "success")));
        Assert.Equal(0, PrometheusText.Sum(text, "anchor_cleanup_total", ("outcome", "failure")));
        Assert.Equal(0, PrometheusText.Sum(text, "anchor_admissions_refused_total"));
        Assert.Equal(0, PrometheusText.Sum(text, "anchor_circuit_state", ("component", "browser")));
        Assert.True(PrometheusText.Has(text, "anchor_circuit_state"));
        Assert.True(PrometheusText.Sum(text, "http_server_request_duration_seconds_count") > 0);
        Assert.Contains("orleans_", text, StringComparison.Ordinal);
        // Labels stay bounded: no session id or URL ever becomes one.
        Assert.DoesNotContain("s-", string.Join('\n', text.Split('\n').Where(l => l.StartsWith("anchor_", StringComparison.Ordinal))), StringComparison.Ordinal);
        Assert.DoesNotContain(_site.Url("/list"), text, StringComparison.Ordinal);

        // Governance figures: the same spend /api/budget reports, read from the ledgers every few seconds.
        var budget = await _host.CreateClient(TestKeys.Operator).GetFromJsonAsync<JsonElement>("/api/budget", Ct);
        var spentToday = budget.GetProperty("daily").GetProperty("spent_usd").GetDouble();
        Assert.True(spentToday > 0);
        text = await Poll.UntilAsync(ScrapeAsync, t => PrometheusText.Sum(t, "anchor_spend_usd_total", ("period", "daily")) == spentToday, TimeSpan.FromSeconds(30), "the daily spend to be exported");
        Assert.Equal(budget.GetProperty("monthly").GetProperty("spent_usd").GetDouble(), PrometheusText.Sum(text, "anchor_spend_usd_total", ("period", "monthly")));
        Assert.Equal(budget.GetProperty("daily").GetProperty("utilization_percent").GetDouble() / 100, PrometheusText.Sum(text, "anchor_budget_utilization_ratio", ("budget", "daily")), 6);
        Assert.Equal(0, PrometheusText.Sum(text, "anchor_emergency_shutdown_active"));
        Assert.True(PrometheusText.Has(text, "anchor_emergency_shutdown_active"));

        var snapshot = await _host.CreateClient(TestKeys.Operator).GetFromJsonAsync<JsonElement>("/api/metrics", Ct);
        Assert.Equal(1, snapshot.GetProperty("sessions").GetProperty("created").GetInt64());
        Assert.Equal(1, snapshot.GetProperty("sessions").GetProperty("completed").GetInt64());
        Assert.Equal(0, snapshot.GetProperty("sessions").GetProperty("active").GetInt32());
        var searches = snapshot.GetProperty("searches");
        Assert.Equal(3, searches.GetProperty("attempted").GetInt64());
        Assert.Equal(3, searches.GetProperty("successful").GetInt64());
        Assert.Equal(0, searches.GetProperty("failed").GetInt64());
        Assert.Equal(1.0, searches.GetProperty("success_rate").GetDouble());
        Assert.Equal(1.0, searches.GetProperty("results_per_search").GetDouble());
        var quality = snapshot.GetProperty("quality");
        Assert.Equal(1, quality.GetProperty("extractions").GetInt64());
        Assert.Equal(1.0, quality.GetProperty("extraction_success_rate").GetDouble());
        Assert.Equal(0.8333, quality.GetProperty("data_completeness").GetDouble());
        Assert.Equal(0.5, quality.GetProperty("cache_hit_rate").GetDouble());
        Assert.Equal(6, snapshot.GetProperty("tool_calls").GetProperty("total").GetInt64());
        Assert.Equal(1, snapshot.GetProperty("tool_calls").GetProperty("refused").GetInt64());
    }

    [Fact]
    public async Task Metrics_NeedTheToken_WhenOneIsConfigured()
    {
        using var anonymous = await _host.CreateClient().GetAsync("/metrics", Ct);
        using var wrong = await _host.CreateClient("not-the-token").GetAsync("/metrics", Ct);
        using var right = await _host.CreateClient(MetricsToken).GetAsync("/metrics", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("unauthorized", (await anonymous.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Fact]
    public async Task Dashboard_IsForOperatorsOnly_WithBasicAuthForBrowsers()
    {
        using var anonymous = await _host.CreateClient().GetAsync("/dashboard", Ct);
        using var agent = await _host.CreateClient(TestKeys.Agent).GetAsync("/dashboard", Ct);
        var browser = _host.CreateClient();
        browser.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"ops:{TestKeys.Operator}")));
        using var operatorBrowser = await browser.GetAsync("/dashboard/", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains(anonymous.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        Assert.Equal(HttpStatusCode.Forbidden, agent.StatusCode);
        Assert.Equal(HttpStatusCode.OK, operatorBrowser.StatusCode);
        Assert.Equal("text/html", operatorBrowser.Content.Headers.ContentType?.MediaType);
    }
}
