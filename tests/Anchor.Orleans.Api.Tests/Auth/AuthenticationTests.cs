using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.Auth;

public sealed class AuthenticationTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/status")]
    [InlineData("/mcp")]
    public async Task Endpoint_Answers401ProblemDetails_WithoutKey(string path)
    {
        using var response = await fixture.Host.CreateClient().GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("unauthorized", problem.GetProperty("type").GetString());
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
        Assert.Equal("An API key is required: send Authorization: Bearer <key>.", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("Bearer not-a-known-key-at-all")]
    [InlineData("Basic YWxhZGRpbjpvcGVuc2VzYW1l")]
    [InlineData("Bearer ")]
    public async Task Status_Answers401_WithWrongCredentials(string authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/status");
        request.Headers.TryAddWithoutValidation("Authorization", authorization);

        using var response = await fixture.Host.CreateClient().SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("unauthorized", problem.GetProperty("type").GetString());
        Assert.Equal("The API key is not valid.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Status_Answers403ProblemDetails_ForAgentKey()
    {
        using var response = await fixture.Host.CreateClient(TestKeys.DevAgent).GetAsync("/status", Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("forbidden", problem.GetProperty("type").GetString());
        Assert.Equal(403, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Status_Answers200_ForOperatorKey()
    {
        using var response = await fixture.Host.CreateClient(TestKeys.DevOperator).GetAsync("/status", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var status = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Development", status.GetProperty("environment").GetString());
        Assert.Equal("0.1.0", status.GetProperty("version").GetString());
        Assert.Equal(1, status.GetProperty("silos").GetInt32());
        Assert.True(status.GetProperty("uptime_seconds").GetDouble() >= 0);
        Assert.False(status.GetProperty("emergency_switch").GetProperty("tripped").GetBoolean());
        Assert.False(status.GetProperty("emergency_switch").GetProperty("refusing").GetBoolean());
    }

    [Fact]
    public async Task Status_ReportsTheProcessStart_NotItsFirstCall()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        var processStart = new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
        var client = fixture.Host.CreateClient(TestKeys.DevOperator);

        var first = await client.GetFromJsonAsync<JsonElement>("/status", Ct);
        var second = await client.GetFromJsonAsync<JsonElement>("/status", Ct);

        Assert.Equal(processStart, first.GetProperty("started_at").GetDateTimeOffset());
        Assert.Equal(processStart, second.GetProperty("started_at").GetDateTimeOffset());
    }

    [Fact]
    public async Task UnknownRoute_Answers404ProblemDetails()
    {
        using var response = await fixture.Host.CreateClient(TestKeys.DevOperator).GetAsync("/no/such/route", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("not_found", problem.GetProperty("type").GetString());
        Assert.Equal("No endpoint at /no/such/route.", problem.GetProperty("detail").GetString());
        Assert.Equal(response.Headers.GetValues("X-Request-Id").Single(), problem.GetProperty("request_id").GetString());
    }
}

/// <summary>Keys configured as SHA-256 hashes, in a production-like key set.</summary>
public sealed class HashedKeyAuthenticationTests
{
    [Fact]
    public async Task Status_AcceptsKey_ConfiguredAsSha256()
    {
        await using var host = await AnchorAppHost.StartAsync(TestKeys.Settings());

        using var response = await host.CreateClient(TestKeys.Operator).GetAsync("/status", TestContext.Current.CancellationToken);
        using var agent = await host.CreateClient(TestKeys.Agent).GetAsync("/status", TestContext.Current.CancellationToken);
        using var devKey = await host.CreateClient(TestKeys.DevOperator).GetAsync("/status", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, agent.StatusCode);
        // Explicit keys replace the development list: the published keys no longer open anything.
        Assert.Equal(HttpStatusCode.Unauthorized, devKey.StatusCode);
    }
}
