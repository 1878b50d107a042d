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
        string? url = null;
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(fixture.Host.BaseAddress, "mcp"),
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {TestKeys.Agent}" },
        });
        await using var agent = await McpClient.CreateAsync(transport, new McpClientOptions
        {
            ClientInfo = new() { Name = "handoff-tests", Version = "1.0" },
            ProtocolVersion = McpTestClient.InitializeRevision,
            Capabilities = new ClientCapabilities { Elicitation = new ElicitationCapability { Url = new UrlElicitationCapability() } },
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = (request, _) =>
                {
                    url = request?.Mode == "url" ? request.Url : null;
                    return ValueTask.FromResult(new ElicitResult { Action = "accept" });
                },
            },
        }, cancellationToken: Ct);
        var sessionId = (await agent.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString()!;

        var handoff = await agent.CallAsync("browser_handoff", new { reason = "Solve the CAPTCHA, please.", session_id = sessionId });

        Assert.NotEqual(true, handoff.IsError);
        var answer = handoff.Json();
        Assert.Equal("elicitation", answer.GetProperty("delivered").GetString());
        Assert.NotNull(url);
        Assert.DoesNotContain("/live/", JsonSerializer.Serialize(handoff), StringComparison.Ordinal);
        await CompleteAsync(agent, sessionId, url, answer.GetProperty("handoff_id").GetString()!);
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
