using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.Governance;

/// <summary>Every MCP request counts against the caller's key, not only tool calls; tool calls keep their own limit.</summary>
public sealed class McpRequestAdmissionTests
{
    private const int ProtocolLimit = 3;
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static Task<AnchorAppHost> StartAsync()
    {
        var settings = TestKeys.Settings();
        settings["Anchor:RateLimit:MaxProtocolRequests"] = ProtocolLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Anchor:RateLimit:MaxRequests"] = "2";
        settings["Anchor:RateLimit:WindowSeconds"] = "3600";
        return AnchorAppHost.StartAsync(settings);
    }

    [Fact]
    public async Task StreamableHttp_FourthNonToolRequest_Is429WithRetryAfter_AndToolCallsAreNotCounted()
    {
        await using var host = await StartAsync();
        var agent = host.CreateClient(TestKeys.Agent);
        var clock = Stopwatch.StartNew();

        var admitted = new List<HttpStatusCode>();
        foreach (var method in new[] { "ping", "tools/list", "ping" })
        {
            using var response = await PostMcpAsync(agent, "/mcp", $$"""{"jsonrpc":"2.0","id":1,"method":"{{method}}"}""");
            admitted.Add(response.StatusCode);
        }

        using var refused = await PostMcpAsync(agent, "/mcp", """{"jsonrpc":"2.0","id":4,"method":"ping"}""");
        using var toolCall = await PostMcpAsync(agent, "/mcp", """{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"budget_status","arguments":{}}}""");
        using var otherClient = await PostMcpAsync(host.CreateClient(TestKeys.OtherAgent), "/mcp", """{"jsonrpc":"2.0","id":1,"method":"ping"}""");

        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, admitted);
        await AssertRateLimitedAsync(refused, clock.Elapsed);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, toolCall.StatusCode);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, otherClient.StatusCode);
    }

    [Fact]
    public async Task LegacySse_StreamAndMessagesCount_FourthIs429WithRetryAfter_AndToolCallsAreNotCounted()
    {
        await using var host = await StartAsync();
        var agent = host.CreateClient(TestKeys.Agent);
        var clock = Stopwatch.StartNew();
        using var sse = new HttpRequestMessage(HttpMethod.Get, "/sse");
        sse.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var stream = await agent.SendAsync(sse, HttpCompletionOption.ResponseHeadersRead, Ct);
        var endpoint = await EndpointOfAsync(stream);

        using var first = await PostMcpAsync(agent, endpoint, """{"jsonrpc":"2.0","id":1,"method":"ping"}""");
        using var second = await PostMcpAsync(agent, endpoint, """{"jsonrpc":"2.0","id":2,"method":"ping"}""");
        using var refused = await PostMcpAsync(agent, endpoint, """{"jsonrpc":"2.0","id":3,"method":"ping"}""");
        using var toolCall = await PostMcpAsync(agent, endpoint, """{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"budget_status","arguments":{}}}""");

        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        await AssertRateLimitedAsync(refused, clock.Elapsed);
        Assert.Equal(HttpStatusCode.Accepted, toolCall.StatusCode);
    }

    private static async Task AssertRateLimitedAsync(HttpResponseMessage response, TimeSpan elapsed)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("rate_limited", problem.GetProperty("type").GetString());
        Assert.StartsWith($"rate_limited: client '{TestKeys.AgentClient}' has made {ProtocolLimit} MCP requests in the last 3600 s (limit {ProtocolLimit}); retry after ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // The oldest counted request leaves the window 3600 s after it was made, at most `elapsed` ago.
        var retryAfter = (int)response.Headers.RetryAfter!.Delta!.Value.TotalSeconds;
        Assert.InRange(retryAfter, 3600 - (int)Math.Ceiling(elapsed.TotalSeconds), 3600);
    }

    private static async Task<HttpResponseMessage> PostMcpAsync(HttpClient client, string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        return await client.SendAsync(request, Ct);
    }

    /// <summary>The message path the stream announces first (<c>/mcp/message?sessionId=…</c>).</summary>
    private static async Task<string> EndpointOfAsync(HttpResponseMessage stream)
    {
        var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(Ct));
        while (await reader.ReadLineAsync(Ct) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return line["data: ".Length..];
            }
        }

        throw new InvalidOperationException("The SSE stream ended before announcing its endpoint.");
    }
}
