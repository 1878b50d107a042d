using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.Governance;

/// <summary>
/// A hostile tenant's requests that never reach a tool still count: unknown tools, denied tools and malformed calls
/// against the protocol limit and the tool-call limit, on the way in; another client's limits are its own.
/// </summary>
public sealed class McpRequestCountingTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static Task<AnchorAppHost> StartAsync(int toolLimit, int protocolLimit, Action<Dictionary<string, string?>>? configure = null)
    {
        var settings = TestKeys.Settings();
        settings["Anchor:RateLimit:MaxRequests"] = toolLimit.ToString(CultureInfo.InvariantCulture);
        settings["Anchor:RateLimit:MaxProtocolRequests"] = protocolLimit.ToString(CultureInfo.InvariantCulture);
        settings["Anchor:RateLimit:WindowSeconds"] = "3600";
        configure?.Invoke(settings);
        return AnchorAppHost.StartAsync(settings);
    }

    [Fact]
    public async Task UnknownTools_ThousandCalls_FifteenAnsweredRestRefused_KnownCallRefused_OtherClientAdmitted()
    {
        await using var host = await StartAsync(toolLimit: 15, protocolLimit: 40);
        var agent = await ConnectAsync(host, TestKeys.Agent);

        var unknownAnswered = 0;
        var refusedAsCalls = 0;
        var refusedAsRequests = 0;
        for (var i = 0; i < 1000; i++)
        {
            using var response = await PostAsync(agent, ToolCall(i, $"no_such_tool_{i}"));
            var body = await response.Content.ReadAsStringAsync(Ct);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var detail = ProblemDetail(body);
                refusedAsCalls += detail.StartsWith($"rate_limited: client '{TestKeys.AgentClient}' has made 15 calls in the last 3600 s (limit 15); retry after ", StringComparison.Ordinal) ? 1 : 0;
                refusedAsRequests += detail.StartsWith($"rate_limited: client '{TestKeys.AgentClient}' has made 40 MCP requests in the last 3600 s (limit 40); retry after ", StringComparison.Ordinal) ? 1 : 0;
                Assert.InRange(response.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 3500, 3600);
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal($"Unknown tool: 'no_such_tool_{i}'", ErrorMessageOf(body));
                unknownAnswered++;
            }
        }

        using var known = await PostAsync(agent, ToolCall(1001, "budget_status"));
        using var other = await PostAsync(await ConnectAsync(host, TestKeys.OtherAgent), ToolCall(1, "budget_status"));

        // initialize and its notification took 2 requests; 15 calls reach the SDK (the tool-call limit); the next 23 are
        // refused as tool calls (requests 18–40); the remaining 962 as requests.
        Assert.Equal((15, 23, 962), (unknownAnswered, refusedAsCalls, refusedAsRequests));
        // A call of a known tool is counted by the pipeline, and refused there as a tool result.
        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        Assert.StartsWith($"error: rate_limited: client '{TestKeys.AgentClient}' has made 15 calls in the last 3600 s (limit 15)", ResultOf(await known.Content.ReadAsStringAsync(Ct)), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.StartsWith("ok: ", ResultOf(await other.Content.ReadAsStringAsync(Ct)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownTools_UnderTheProtocolLimit_UseUpTheToolCallLimit_SoAKnownCallIsRefusedAsAToolResult()
    {
        await using var host = await StartAsync(toolLimit: 3, protocolLimit: 100);
        var agent = await ConnectAsync(host, TestKeys.Agent);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await PostAsync(agent, ToolCall(i, "browser_teleport"));
            statuses.Add(response.StatusCode);
        }

        using var known = await PostAsync(agent, ToolCall(10, "budget_status"));
        var result = ResultOf(await known.Content.ReadAsStringAsync(Ct));


        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], statuses);
        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        Assert.StartsWith($"error: rate_limited: client '{TestKeys.AgentClient}' has made 3 calls in the last 3600 s (limit 3)", result, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeniedTool_Counts_ThirdCallIs429_AndTheOtherClientMayStillCallIt()
    {
        await using var host = await StartAsync(toolLimit: 2, protocolLimit: 100, s => s[$"Anchor:Clients:{TestKeys.AgentClient}:Tools:Deny:0"] = "budget_status");
        var agent = await ConnectAsync(host, TestKeys.Agent);

        using var first = await PostAsync(agent, ToolCall(1, "budget_status"));
        using var second = await PostAsync(agent, ToolCall(2, "budget_status"));
        using var third = await PostAsync(agent, ToolCall(3, "budget_status"));
        using var other = await PostAsync(await ConnectAsync(host, TestKeys.OtherAgent), ToolCall(1, "budget_status"));

        Assert.Equal("error: tool_not_allowed: budget_status is not allowed for this client.", ResultOf(await first.Content.ReadAsStringAsync(Ct)));
        Assert.Equal("error: tool_not_allowed: budget_status is not allowed for this client.", ResultOf(await second.Content.ReadAsStringAsync(Ct)));
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.StartsWith($"rate_limited: client '{TestKeys.AgentClient}' has made 2 calls in the last 3600 s (limit 2)", ProblemDetail(await third.Content.ReadAsStringAsync(Ct)), StringComparison.Ordinal);
        Assert.StartsWith("ok: ", ResultOf(await other.Content.ReadAsStringAsync(Ct)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedCalls_Count_FourthIs429_AndAToolCallWithoutParamsUsesTheToolCallLimit()
    {
        await using var host = await StartAsync(toolLimit: 1, protocolLimit: 5);
        var agent = await ConnectAsync(host, TestKeys.Agent);

        using var notJson = await PostAsync(agent, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":");
        using var batch = await PostAsync(agent, """[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"budget_status"}}]""");
        using var noParams = await PostAsync(agent, """{"jsonrpc":"2.0","id":3,"method":"tools/call"}""");
        using var fourth = await PostAsync(agent, """{"jsonrpc":"2.0","id":4,"method":"tools/call","method":"ping","params":{"name":"budget_status"}}""");
        using var known = await PostAsync(agent, ToolCall(5, "budget_status"));
        using var other = await PostAsync(await ConnectAsync(host, TestKeys.OtherAgent), ToolCall(1, "budget_status"));

        Assert.NotEqual(HttpStatusCode.TooManyRequests, notJson.StatusCode);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, batch.StatusCode);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, noParams.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, fourth.StatusCode);
        Assert.StartsWith($"rate_limited: client '{TestKeys.AgentClient}' has made 5 MCP requests in the last 3600 s (limit 5)", ProblemDetail(await fourth.Content.ReadAsStringAsync(Ct)), StringComparison.Ordinal);
        // The tool call without params took the one tool call of the window.
        Assert.StartsWith($"error: rate_limited: client '{TestKeys.AgentClient}' has made 1 calls in the last 3600 s (limit 1)", ResultOf(await known.Content.ReadAsStringAsync(Ct)), StringComparison.Ordinal);
        Assert.StartsWith("ok: ", ResultOf(await other.Content.ReadAsStringAsync(Ct)), StringComparison.Ordinal);
    }

    private static string ToolCall(int id, string name) =>
        $$"""{"jsonrpc":"2.0","id":{{id}},"method":"tools/call","params":{"name":"{{name}}","arguments":{"""  + "}}}";

    /// <summary>An <c>initialize</c> client (two protocol requests: the handshake and its notification), by hand.</summary>
    private static async Task<HttpClient> ConnectAsync(AnchorAppHost host, string apiKey)
    {
        var client = host.CreateClient(apiKey);
        using var initialize = await PostAsync(client, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"" + McpTestClient.InitializeRevision + "\",\"capabilities\":{},\"clientInfo\":{\"name\":\"hostile\",\"version\":\"1\"}}}");
        Assert.Equal(HttpStatusCode.OK, initialize.StatusCode);
        client.DefaultRequestHeaders.Add("Mcp-Session-Id", initialize.Headers.GetValues("Mcp-Session-Id").Single());
        client.DefaultRequestHeaders.Add("MCP-Protocol-Version", McpTestClient.InitializeRevision);
        using var initialized = await PostAsync(client, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        Assert.Equal(HttpStatusCode.Accepted, initialized.StatusCode);
        return client;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        return await client.SendAsync(request, Ct);
    }

    private static string ProblemDetail(string body) => JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;

    /// <summary>A tool result as "error: text" or "ok: text", whether the response came as JSON or as one SSE event.</summary>
    private static string ResultOf(string body)
    {
        var result = MessageOf(body).GetProperty("result");
        var error = result.TryGetProperty("isError", out var isError) && isError.GetBoolean();
        return (error ? "error: " : "ok: ") + result.GetProperty("content")[0].GetProperty("text").GetString();
    }

    private static string ErrorMessageOf(string body) => MessageOf(body).GetProperty("error").GetProperty("message").GetString()!;

    private static JsonElement MessageOf(string body)
    {
        var json = body.TrimStart().StartsWith('{') ? body : string.Join("", body.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l["data: ".Length..]));
        return JsonDocument.Parse(json).RootElement.Clone();
    }
}
