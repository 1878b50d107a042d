using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.OpenApi;

public sealed class OpenApiTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static string[] Names(JsonElement element) =>
        [.. element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Document_ListsOperatorAndHealthEndpoints_ForAnyone_AndNotMcp()
    {
        using var response = await fixture.Host.CreateClient().GetAsync("/openapi/v1.json", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var paths = Names(document.GetProperty("paths"));
        foreach (var path in new[] { "/status", "/api/metrics", "/api/sessions", "/api/sessions/{sessionId}", "/api/budget", "/api/emergency-shutdown", "/api/alerts", "/api/profiles", "/health", "/health/ready", "/health/live" })
        {
            Assert.Contains(path, paths);
        }

        Assert.DoesNotContain(paths, p => p.StartsWith("/mcp", StringComparison.Ordinal) || p is "/sse" or "/message" || p.StartsWith("/dashboard", StringComparison.Ordinal));
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.Equal(
            ["cost", "quality", "searches", "sessions", "tool_calls"],
            Names(schemas.GetProperty("OperationsSnapshot").GetProperty("properties")));
        Assert.Equal(
            "#/components/schemas/OperationsSnapshot",
            document.GetProperty("paths").GetProperty("/api/metrics").GetProperty("get").GetProperty("responses").GetProperty("200")
                .GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.Equal("Anchor.Orleans", document.GetProperty("info").GetProperty("title").GetString());
        Assert.True(schemas.TryGetProperty("HealthResponse", out _));
        Assert.All(References(document), r => Assert.True(schemas.TryGetProperty(r["#/components/schemas/".Length..], out _), r));
    }

    private static IEnumerable<string> References(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => p.Name == "$ref" ? [p.Value.GetString()!] : References(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(References),
        _ => [],
    };

    [Fact]
    public async Task OperationsSnapshot_KeepsItsSnakeCaseShape()
    {
        var body = await fixture.Host.CreateClient(TestKeys.DevOperator).GetFromJsonAsync<JsonElement>("/api/metrics", Ct);

        Assert.Equal(["cost", "quality", "searches", "sessions", "tool_calls"], Names(body));
        var sessions = body.GetProperty("sessions");
        Assert.Equal(["active", "average_duration_seconds", "cleanup", "completed", "created", "ended_by_reason", "failed", "timed_out"], Names(sessions));
        Assert.Equal(["failed", "succeeded", "success_rate"], Names(sessions.GetProperty("cleanup")));
        Assert.Equal(["attempted", "average_duration_seconds", "failed", "results_per_search", "success_rate", "successful"], Names(body.GetProperty("searches")));
        Assert.Equal(["cost_per_search_usd", "daily_spend_usd", "daily_utilization", "monthly_spend_usd", "monthly_utilization"], Names(body.GetProperty("cost")));
        Assert.Equal(["cache_hit_rate", "data_completeness", "extraction_success_rate", "extractions"], Names(body.GetProperty("quality")));
        Assert.Equal(["errors", "refused", "total"], Names(body.GetProperty("tool_calls")));
    }

    [Fact]
    public async Task SessionList_KeepsItsSnakeCaseShape()
    {
        var body = await fixture.Host.CreateClient(TestKeys.DevOperator).GetFromJsonAsync<JsonElement>("/api/sessions", Ct);

        Assert.Equal(["cleanup", "count", "sessions"], Names(body));
        Assert.Equal(["failed", "last_sweep_at", "succeeded"], Names(body.GetProperty("cleanup")));
        Assert.Equal(body.GetProperty("count").GetInt32(), body.GetProperty("sessions").GetArrayLength());
    }
}
