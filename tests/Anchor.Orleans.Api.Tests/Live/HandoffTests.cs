using System.Text.Json;
using Anchor.Orleans.Testing;
using Microsoft.Playwright;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Api.Tests.Live;

/// <summary>Its own silo for hand-offs, with room in the action limit for a person to open the link and press Done.</summary>
public sealed class HandoffFixture : LiveFixture
{
    protected override Dictionary<string, string?> Settings()
    {
        var settings = base.Settings();
        settings["Anchor:Sessions:ActionTimeoutSeconds"] = "30";
        return settings;
    }
}

/// <summary><c>browser_handoff</c>: a person takes over the agent's session, through elicitation or the result.</summary>
public sealed class HandoffTests(HandoffFixture fixture) : IClassFixture<HandoffFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Handoff_ToAClientWithoutElicitation_PutsAOneTimeLinkInTheResult_AndTheNextActionWaitsForDone()
    {
        var (agent, sessionId) = await fixture.OpenSessionAsync();
        await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = sessionId });

        var handoff = await agent.CallAsync("browser_handoff", new { reason = "Sign in, please.", session_id = sessionId });

        Assert.NotEqual(true, handoff.IsError);
        var answer = handoff.Json();
        Assert.Equal("result", answer.GetProperty("delivered").GetString());
        var forUser = handoff.Content.OfType<TextContentBlock>().Last().Text;
        Assert.StartsWith("FOR THE USER, NOT FOR THE MODEL", forUser, StringComparison.Ordinal);
        var url = forUser.Split(' ', '\n').First(w => w.Contains("/live/", StringComparison.Ordinal));
        await CompleteAsync(agent, sessionId, url, answer.GetProperty("handoff_id").GetString()!);
    }

    [Fact]
    public async Task Handoff_ToAClientWithUrlElicitation_DeliversTheLinkThroughTheProtocol_NotTheResult()
    {
        using var wire = new WireRecorder();
        var elicited = new ElicitedUrl();
        await using var agent = await ConnectElicitingAsync(McpTestClient.InitializeRevision, elicited, wire);

        await HandOffThroughElicitationAsync(agent, elicited);

        // On a 2025-11-25 session the link went out as an elicitation/create request of the server's own: the client
        // answered it as a JSON-RPC response, and never retried the call with input responses.
        Assert.Contains(wire.Requests, body => body.Contains("\"action\":\"accept\"", StringComparison.Ordinal));
        Assert.DoesNotContain(wire.Requests, body => body.Contains("\"inputResponses\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Handoff_ToA2026Client_WithUrlElicitation_DeliversTheLinkInAnInputRequiredResult()
    {
        using var wire = new WireRecorder();
        var elicited = new ElicitedUrl();
        await using var agent = await ConnectElicitingAsync(protocolVersion: null, elicited, wire);
        Assert.Equal("2026-07-28", agent.NegotiatedProtocolVersion);

        await HandOffThroughElicitationAsync(agent, elicited);

        // The first tools/call was answered input_required (a URL elicitation); the client called again with the person's
        // answer in inputResponses. The link rode in that first answer only, never in the final result.
        Assert.Contains(wire.Requests, body => body.Contains("\"inputResponses\"", StringComparison.Ordinal) && body.Contains("\"browser_handoff\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Handoff_Answer_IsStructuredContent_EqualToItsText()
    {
        var (agent, sessionId) = await fixture.OpenSessionAsync();

        var handoff = await agent.CallAsync("browser_handoff", new { reason = "Sign in, please.", session_id = sessionId });

        var structured = Assert.IsType<JsonElement>(handoff.StructuredContent);
        Assert.True(JsonElement.DeepEquals(handoff.Json(), structured), structured.GetRawText());
        Assert.Equal(["delivered", "expires_at", "handoff_id"], structured.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("/live/", structured.GetRawText(), StringComparison.Ordinal);
        await agent.CallAsync("browser_session_close", new { session_id = sessionId });
    }

    [Fact]
    public async Task Handoff_OfAnotherClientsSession_IsSessionNotFound()
    {
        var (_, sessionId) = await fixture.OpenSessionAsync(TestKeys.Agent);
        var other = await fixture.ConnectAsync(TestKeys.OtherAgent);

        var handoff = await other.CallAsync("browser_handoff", new { reason = "Sign in.", session_id = sessionId });

        Assert.True(handoff.IsError);
        Assert.StartsWith("session_not_found:", handoff.Text(), StringComparison.Ordinal);
    }

    /// <summary>A client that declares URL-mode elicitation and accepts, keeping the URL it was given; its HTTP answers recorded.</summary>
    private async Task<McpClient> ConnectElicitingAsync(string? protocolVersion, ElicitedUrl elicited, WireRecorder wire)
    {
        var transport = new HttpClientTransport(
            new HttpClientTransportOptions
            {
                Endpoint = new Uri(fixture.Host.BaseAddress, "mcp"),
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {TestKeys.Agent}" },
            },
            wire.Client,
            null,
            false);
        return await McpClient.CreateAsync(transport, new McpClientOptions
        {
            ClientInfo = new() { Name = "handoff-tests", Version = "1.0" },
            ProtocolVersion = protocolVersion,
            Capabilities = new ClientCapabilities { Elicitation = new ElicitationCapability { Url = new UrlElicitationCapability() } },
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = (request, _) =>
                {
                    elicited.Url = request?.Mode == "url" ? request.Url : null;
                    return ValueTask.FromResult(new ElicitResult { Action = "accept" });
                },
            },
        }, cancellationToken: Ct);
    }

    /// <summary>Hands a new session over through elicitation: the link reaches the client's handler, never the result.</summary>
    private async Task HandOffThroughElicitationAsync(McpClient agent, ElicitedUrl elicited)
    {
        var sessionId = (await agent.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString()!;

        var handoff = await agent.CallAsync("browser_handoff", new { reason = "Solve the CAPTCHA, please.", session_id = sessionId });

        Assert.True(handoff.IsError != true, handoff.Text());
        var answer = handoff.Json();
        Assert.Equal("elicitation", answer.GetProperty("delivered").GetString());
        Assert.NotNull(elicited.Url);
        Assert.DoesNotContain("/live/", JsonSerializer.Serialize(handoff), StringComparison.Ordinal);
        await CompleteAsync(agent, sessionId, elicited.Url, answer.GetProperty("handoff_id").GetString()!);
    }

    /// <summary>The person opens the link and presses Done; the agent's waiting action then proceeds and reports the hand-off.</summary>
    private async Task CompleteAsync(McpClient agent, string sessionId, string url, string handoffId)
    {
        var navigate = agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/b"), session_id = sessionId });
        var viewer = await fixture.OpenViewerAsync(url, "control");
        Assert.False(navigate.IsCompleted);

        await viewer.Locator("#done").ClickAsync();
        var result = await navigate.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.NotEqual(true, result.IsError);
        var meta = result.Meta!["anchor/handoff"]!;
        Assert.Equal(handoffId, meta["handoff_id"]!.GetValue<string>());
        Assert.Equal("completed", meta["outcome"]!.GetValue<string>());
        await Assertions.Expect(viewer.Locator("body")).ToHaveAttributeAsync("data-state", "live");
    }
}

/// <summary>The URL an elicitation handler was given.</summary>
internal sealed class ElicitedUrl
{
    public string? Url { get; set; }
}

/// <summary>An <see cref="HttpClient"/> that keeps the body of every POST (the MCP messages the client sent).</summary>
internal sealed class WireRecorder : IDisposable
{
    private readonly Recording _handler = new();

    public WireRecorder() => Client = new HttpClient(_handler) { Timeout = TimeSpan.FromSeconds(60) };

    public HttpClient Client { get; }

    public IReadOnlyList<string> Requests => [.. _handler.Bodies];

    public void Dispose() => Client.Dispose();

    private sealed class Recording() : DelegatingHandler(new HttpClientHandler())
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Bodies { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Post && request.Content is { } content)
            {
                Bodies.Enqueue(await content.ReadAsStringAsync(cancellationToken));
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}
