using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.Problems;

public sealed class MalformedRequestFixture : IAsyncLifetime
{
    public AnchorAppHost Host { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var settings = TestKeys.Settings();
        settings["Anchor:Http:MaxRequestBodyBytes"] = "4096";
        Host = await AnchorAppHost.StartAsync(settings);
    }

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>A body the server cannot read is the client's error on every route: 400 (413 when too large) problem details, never 500.</summary>
public sealed class MalformedRequestTests(MalformedRequestFixture fixture) : IClassFixture<MalformedRequestFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/api/emergency-shutdown", "{\"reason\":")]
    [InlineData("/api/emergency-shutdown", "{\"reason\": 5}")]
    [InlineData("/api/emergency-shutdown", "[[[[")]
    [InlineData("/api/governance/import", "{\"ledgers\": \"x\"}")]
    [InlineData("/api/governance/import", "{\"format_version\": 1e400}")]
    public async Task MalformedJsonBody_Answers400ProblemDetails(string path, string body)
    {
        using var response = await fixture.Host.CreateClient(TestKeys.Operator).PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"), Ct);

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_argument", problem.GetProperty("type").GetString());
        Assert.StartsWith("Failed to read parameter", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongContentType_Answers415ProblemDetails()
    {
        using var response = await fixture.Host.CreateClient(TestKeys.Operator).PostAsync("/api/emergency-shutdown", new StringContent("{\"reason\":\"x\"}", Encoding.UTF8, "text/plain"), Ct);

        await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task BodyOverTheLimit_Answers413ProblemDetails()
    {
        var body = "{\"reason\":\"" + new string('a', 5000) + "\"}";

        using var response = await fixture.Host.CreateClient(TestKeys.Operator).PostAsync("/api/emergency-shutdown", new StringContent(body, Encoding.UTF8, "application/json"), Ct);

        var problem = await ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("invalid_argument", problem.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData(null, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}")]
    [InlineData("application/json", "")]
    [InlineData("application/json", "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}")]
    [InlineData("application/json", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"capabilities\":\"x\"}}")]
    public async Task MalformedMcpMessage_AnswersAClientError(string? contentType, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        if (contentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        using var response = await fixture.Host.CreateClient(TestKeys.Agent).SendAsync(request, Ct);

        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{(int)response.StatusCode}: {text} {fixture.Host.Logs.Entries.LastOrDefault(e => e.Exception is not null)?.Exception}");
    }

    [Fact]
    public async Task ErrorForAClientThatAcceptsNoJson_IsStillProblemDetails()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/status");
        request.Headers.TryAddWithoutValidation("Accept", "text/html");

        using var response = await fixture.Host.CreateClient(TestKeys.Agent).SendAsync(request, Ct);

        var problem = await ProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal("forbidden", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task DashboardSiloRoute_WithNoSiloAddress_Answers404()
    {
        using var response = await fixture.Host.CreateClient(TestKeys.Operator).GetAsync("/dashboard/SiloProperties/not-a-silo", Ct);

        var problem = await ProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Equal("not_found", problem.GetProperty("type").GetString());
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("request_id").GetString()));
        return problem;
    }
}
