using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.Governance;

/// <summary>
/// One key cannot hold the front's memory with transport sessions or SSE streams, and a transport session id is its
/// creator's alone: another client presenting it is told not-found and changes nothing.
/// </summary>
public sealed class McpTransportCapsTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static Task<AnchorAppHost> StartAsync(int sessions, int streams, int idleSeconds)
    {
        var settings = TestKeys.Settings();
        settings["Anchor:Mcp:MaxTransportSessionsPerClient"] = sessions.ToString(CultureInfo.InvariantCulture);
        settings["Anchor:Mcp:MaxSseStreamsPerClient"] = streams.ToString(CultureInfo.InvariantCulture);
        settings["Anchor:Mcp:ReclaimIdleAfterSeconds"] = idleSeconds.ToString(CultureInfo.InvariantCulture);
        return AnchorAppHost.StartAsync(settings);
    }

    [Fact]
    public async Task TransportSession_PresentedByAnotherClient_IsNotFound_AndStillServesItsOwner()
    {
        await using var host = await StartAsync(64, 16, 3600);
        var owner = host.CreateClient(TestKeys.Agent);
        var other = host.CreateClient(TestKeys.OtherAgent);
        var (status, sessionId) = await InitializeAsync(owner);
        Assert.Equal(HttpStatusCode.OK, status);

        using var stolenPing = await PostAsync(other, Ping(1), sessionId);
        using var stolenDelete = await SendAsync(other, HttpMethod.Delete, sessionId);
        using var stolenStream = await SendAsync(other, HttpMethod.Get, sessionId);
        using var ownPing = await PostAsync(owner, Ping(2), sessionId);

        Assert.Equal(HttpStatusCode.NotFound, stolenPing.StatusCode);
        Assert.Equal("""{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}""", await stolenPing.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.NotFound, stolenDelete.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, stolenStream.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ownPing.StatusCode);
        Assert.Contains("\"id\":2", await ownPing.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TransportSessions_PastTheCap_NoneIdle_Is429WithRetryAfter_AndAnotherKeyStillInitializes()
    {
        await using var host = await StartAsync(sessions: 2, streams: 16, idleSeconds: 3600);
        var agent = host.CreateClient(TestKeys.Agent);

        var (first, _) = await InitializeAsync(agent);
        var (second, _) = await InitializeAsync(agent);
        using var third = await PostAsync(agent, InitializeBody);
        var (other, _) = await InitializeAsync(host.CreateClient(TestKeys.OtherAgent));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (first, second, other));
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        var problem = JsonDocument.Parse(await third.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("rate_limited", problem.GetProperty("type").GetString());
        Assert.StartsWith($"rate_limited: client '{TestKeys.AgentClient}' holds 2 open MCP transport sessions (limit 2) and none has been idle for 3600 s", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.InRange(third.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 3500, 3600);
    }

    [Fact]
    public async Task SseStreams_PastTheCap_NoneIdle_Is429_AndAnotherKeyStillOpensOne()
    {
        await using var host = await StartAsync(sessions: 64, streams: 2, idleSeconds: 3600);
        var agent = host.CreateClient(TestKeys.Agent);

        using var first = await OpenSseAsync(agent);
        using var second = await OpenSseAsync(agent);
        using var third = await OpenSseAsync(agent);
        using var other = await OpenSseAsync(host.CreateClient(TestKeys.OtherAgent));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode, other.StatusCode));
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        var problem = JsonDocument.Parse(await third.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.StartsWith($"rate_limited: client '{TestKeys.AgentClient}' holds 2 open legacy SSE streams (limit 2)", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SseStream_AtTheCap_TheIdleOneIsClosed_ForTheNewOne()
    {
        await using var host = await StartAsync(sessions: 64, streams: 1, idleSeconds: 1);
        var agent = host.CreateClient(TestKeys.Agent);
        using var first = await OpenSseAsync(agent);
        var firstBody = new StreamReader(await first.Content.ReadAsStreamAsync(Ct));
        Assert.StartsWith("event: endpoint", await firstBody.ReadLineAsync(Ct), StringComparison.Ordinal);

        // Refused until the first has been idle for a second, then admitted by closing the first.
        var second = await Poll.UntilAsync(
            () => OpenSseAsync(agent),
            r => r.StatusCode != HttpStatusCode.TooManyRequests,
            TimeSpan.FromSeconds(30),
            "the idle stream to be reclaimed");
        using (second)
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
            // The first stream ends: its reader reaches the end of the response.
            var rest = await firstBody.ReadToEndAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.DoesNotContain("event: endpoint", rest, StringComparison.Ordinal);
        }
    }

    private const string InitializeBody = """{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"hostile","version":"1"}}}""";

    private static string Ping(int id) => "{\"jsonrpc\":\"2.0\",\"id\":" + id.ToString(CultureInfo.InvariantCulture) + ",\"method\":\"ping\"}";

    private static async Task<(HttpStatusCode Status, string SessionId)> InitializeAsync(HttpClient client)
    {
        using var response = await PostAsync(client, InitializeBody);
        return (response.StatusCode, response.Headers.TryGetValues("Mcp-Session-Id", out var ids) ? ids.Single() : "");
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string json, string? sessionId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        if (sessionId is not null)
        {
            request.Headers.Add("Mcp-Session-Id", sessionId);
            request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        }

        return await client.SendAsync(request, Ct);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string sessionId)
    {
        using var request = new HttpRequestMessage(method, "/mcp");
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        request.Headers.Add("Mcp-Session-Id", sessionId);
        request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
    }

    private static async Task<HttpResponseMessage> OpenSseAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/sse");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
    }
}
