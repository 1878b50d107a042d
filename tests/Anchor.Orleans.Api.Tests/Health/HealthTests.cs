using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Api.Health;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Anchor.Orleans.Api.Tests.Health;

public sealed class HealthTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static string[] CheckNames(JsonElement body) =>
        body.GetProperty("checks").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Health_ReportsEveryCheck_WithStatusAndDuration_ToAnOperator()
    {
        using var response = await fixture.Host.CreateClient(TestKeys.DevOperator).GetAsync("/health", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(["browser", "cluster", "disk", "drain", "emergency", "memory", "storage"], CheckNames(body));
        foreach (var check in body.GetProperty("checks").EnumerateObject())
        {
            Assert.Contains(check.Value.GetProperty("status").GetString(), new[] { "Healthy", "Degraded" });
            Assert.True(check.Value.GetProperty("duration_ms").GetDouble() >= 0);
        }

        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("cluster").GetProperty("status").GetString());
        Assert.Equal(1, body.GetProperty("checks").GetProperty("cluster").GetProperty("data").GetProperty("silos").GetInt32());
        Assert.Equal("Memory", body.GetProperty("checks").GetProperty("storage").GetProperty("data").GetProperty("provider").GetString());
    }

    [Fact]
    public async Task Health_ToAnAnonymousCaller_NamesOnlyStatuses()
    {
        using var response = await fixture.Host.CreateClient().GetAsync("/health", Ct);

        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(["checks", "status"], body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["browser", "cluster", "disk", "drain", "emergency", "memory", "storage"], CheckNames(body));
        foreach (var check in body.GetProperty("checks").EnumerateObject())
        {
            Assert.Equal(["status"], check.Value.EnumerateObject().Select(p => p.Name));
        }
    }

    [Fact]
    public async Task Ready_RunsOnlyReadinessChecks()
    {
        using var response = await fixture.Host.CreateClient().GetAsync("/health/ready", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal(["cluster", "drain", "emergency", "storage"], CheckNames(body));
    }

    [Fact]
    public async Task Live_RunsNoCheck()
    {
        using var response = await fixture.Host.CreateClient().GetAsync("/health/live", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Empty(CheckNames(body));
    }
}

public sealed class HealthDegradationTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Health_Answers503_WhenAPluggedInReadinessCheckIsUnhealthy()
    {
        await using var host = await AnchorAppHost.StartAsync(configure: b => b.Services.AddHealthChecks()
            .AddCheck("plugged-in", () => HealthCheckResult.Unhealthy("Plugged-in check failing: test"), tags: [HealthTags.Ready]));

        using var health = await host.CreateClient().GetAsync("/health", Ct);
        using var ready = await host.CreateClient().GetAsync("/health/ready", Ct);
        using var live = await host.CreateClient().GetAsync("/health/live", Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var body = await health.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Unhealthy", body.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", body.GetProperty("checks").GetProperty("plugged-in").GetProperty("status").GetString());
        using var detailed = await host.CreateClient(TestKeys.DevOperator).GetAsync("/health", Ct);
        var detail = await detailed.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Plugged-in check failing: test", detail.GetProperty("checks").GetProperty("plugged-in").GetProperty("description").GetString());
    }

    [Fact]
    public async Task FailingCheckMessage_WithACdpToken_IsHiddenFromAnonymousCallers_AndRedactedForOperators()
    {
        const string Token = "tok_5b1f0a9c7e2d44a1";
        await using var host = await AnchorAppHost.StartAsync(
            TestKeys.Settings(),
            configure: b => b.Services.AddHealthChecks().AddCheck(
                "remote-browser",
                () => HealthCheckResult.Degraded($"BrowserType.ConnectOverCDPAsync: connect ECONNREFUSED wss://user:{Token}@cdp.example.test/chromium?token={Token}&region=eu")));

        using var anonymous = await host.CreateClient().GetAsync("/health", Ct);
        using var agent = await host.CreateClient(TestKeys.Agent).GetAsync("/health", Ct);
        using var operatorView = await host.CreateClient(TestKeys.Operator).GetAsync("/health", Ct);
        var anonymousText = await anonymous.Content.ReadAsStringAsync(Ct);
        var agentText = await agent.Content.ReadAsStringAsync(Ct);
        var operatorBody = await operatorView.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
        Assert.Equal("""{"status":"Degraded"}""", JsonDocument.Parse(anonymousText).RootElement.GetProperty("checks").GetProperty("remote-browser").GetRawText());
        Assert.DoesNotContain(Token, anonymousText, StringComparison.Ordinal);
        Assert.DoesNotContain("cdp.example.test", anonymousText, StringComparison.Ordinal);
        Assert.DoesNotContain("cdp.example.test", agentText, StringComparison.Ordinal);
        Assert.Equal(
            "BrowserType.ConnectOverCDPAsync: connect ECONNREFUSED wss://[REDACTED]@cdp.example.test/chromium?token=[REDACTED]&region=eu",
            operatorBody.GetProperty("checks").GetProperty("remote-browser").GetProperty("description").GetString());
    }

    [Fact]
    public async Task Health_ReportsDegraded_PastTheMemoryThreshold()
    {
        // 0.01 % of the machine's memory is below what any silo uses.
        await using var host = await AnchorAppHost.StartAsync(new Dictionary<string, string?> { ["Anchor:Health:MemoryDegradedPercent"] = "0.01" });
        Assert.True(Environment.WorkingSet > GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 10_000, "precondition: the process uses more than 0.01% of memory");

        using var health = await host.CreateClient().GetAsync("/health", Ct);

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var body = await health.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Degraded", body.GetProperty("status").GetString());
        Assert.Equal("Degraded", body.GetProperty("checks").GetProperty("memory").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Storage_TurnsUnhealthy_WhenRedisGoesAway()
    {
        var redis = new RedisServer();
        await redis.InitializeAsync();
        await using var host = await AnchorAppHost.StartAsync(new Dictionary<string, string?>
        {
            ["Anchor:Storage:Provider"] = "Redis",
            ["Anchor:Redis:ConnectionString"] = redis.ConnectionString + ",connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000",
        });
        using var before = await host.CreateClient().GetAsync("/health/ready", Ct);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        await redis.DisposeAsync();

        var after = await Poll.UntilAsync(
            async () => (await host.CreateClient().GetAsync("/health/ready", Ct)).StatusCode,
            s => s == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(30),
            "readiness to fail once Redis is gone");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, after);
    }
}
