using System.Diagnostics;
using System.Text.Json;
using Anchor.Orleans.Api.Tests.Interop;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;

namespace Anchor.Orleans.Api.Tests.Mcp;

/// <summary>Element actions may wait a minute, and the operator may script pages (to make an element that never becomes actionable).</summary>
public sealed class CancellationFixture : BrowserAppFixture
{
    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Browser:ElementTimeoutSeconds", "60"),
        ($"Anchor:Clients:{TestKeys.OperatorClient}:Tools:Allow:0", "browser_evaluate"));
}

/// <summary>
/// A client that gives up on a call stops the browser: the running action ends within a second, the session is not
/// charged for it and answers the next call; the call is logged as <c>cancelled</c>.
/// </summary>
public sealed class CancellationTests(CancellationFixture fixture) : IClassFixture<CancellationFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static readonly TimeSpan InService = TimeSpan.FromSeconds(1);

    /// <summary>A 2026-07-28 client (no session: its HTTP request is the call) and an initialize client (notifications/cancelled).</summary>
    [Theory]
    [InlineData(null)]
    [InlineData(McpTestClient.InitializeRevision)]
    public async Task CancelledWaitFor_OfSixtySeconds_EndsWithinASecond_ChargesNothing_AndTheSessionGoesOn(string? protocolVersion)
    {
        await using var client = await McpTestClient.ConnectAsync(fixture.Host.BaseAddress, TestKeys.Agent, HttpTransportMode.StreamableHttp, protocolVersion);
        Assert.Equal(protocolVersion is not null, client.SessionId is not null);
        var session = (await client.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString()!;
        Assert.True((await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/b"), session_id = session })).IsError != true);

        var took = await CancelWhileRunningAsync(client, session, "browser_wait_for", new { time = 60, session_id = session }, "wait_for");

        Assert.True(took < InService, $"the session was back in service {took.TotalMilliseconds:0} ms after the cancel");
        var next = await client.CallAsync("browser_snapshot", new { session_id = session });
        Assert.True(next.IsError != true, next.Text());
        Assert.Contains("This is B", next.Text(), StringComparison.Ordinal);
        await AssertLoggedCancelledAsync(session, "browser_wait_for");
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task CancelledClick_OnAnElementThatNeverBecomesActionable_EndsWithinASecond_ChargesNothing_AndTheSessionGoesOn()
    {
        var (client, session) = await fixture.OpenSessionAsync(TestKeys.Operator);
        Assert.True((await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/b"), session_id = session })).IsError != true);
        var added = await client.CallAsync("browser_evaluate", new { function = "() => { document.body.insertAdjacentHTML('beforeend', '<button id=\"stuck\" disabled>Stuck</button>'); return true; }", session_id = session });
        Assert.True(added.IsError != true, added.Text());

        var took = await CancelWhileRunningAsync(client, session, "browser_click", new { target = "#stuck", element = "Stuck button", session_id = session }, "click");

        Assert.True(took < InService, $"the session was back in service {took.TotalMilliseconds:0} ms after the cancel");
        // The click could only be ended by closing its tab: the session goes on, on a fresh page, and says so.
        var next = await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = session });
        Assert.True(next.IsError != true, next.Text());
        Assert.Contains("Page A", next.Text(), StringComparison.Ordinal);
        Assert.Contains("click was cancelled while the page was still working on it", next.Text(), StringComparison.Ordinal);
        await AssertLoggedCancelledAsync(session, "browser_click");
    }

    [Fact]
    public async Task TypeScriptSdkAgent_AbortingAWait_GetsTheSessionBackWithinASecond_Uncharged()
    {
        var output = await McpInteropTests.RunNodeAsync("cancel-agent.mjs", fixture.Host.BaseAddress.ToString(), TestKeys.OtherAgent, fixture.Site.Url("/b"));

        var result = JsonDocument.Parse(output).RootElement;
        Assert.True(result.GetProperty("aborted").GetString()!.Contains("AbortError", StringComparison.Ordinal), output);
        Assert.True(result.GetProperty("nextMs").GetDouble() < InService.TotalMilliseconds + 500, output); // the next call's own time included
        Assert.Contains("This is B", result.GetProperty("next").GetString(), StringComparison.Ordinal);
        var session = result.GetProperty("session").GetString()!;
        var info = await Grains.GetGrain<IBrowserSessionGrain>(session).GetInfoAsync(null);
        Assert.Equal(result.GetProperty("actionsBefore").GetInt32() + 1, info!.Actions); // the snapshot after, not the aborted wait
        await AssertLoggedCancelledAsync(session, "browser_wait_for");
    }

    private IGrainFactory Grains => fixture.Host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>
    /// Starts <paramref name="tool"/>, cancels it once the session runs it, and returns how long after the cancel the
    /// session was free again; asserts the call threw and the session counted no action for it.
    /// </summary>
    private async Task<TimeSpan> CancelWhileRunningAsync(McpClient client, string session, string tool, object arguments, string action)
    {
        var grain = Grains.GetGrain<IBrowserSessionGrain>(session);
        var before = (await grain.GetInfoAsync(null))!;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var args = JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(arguments))!;
        var call = client.CallToolAsync(tool, args, cancellationToken: cancel.Token).AsTask();
        await Poll.UntilAsync(() => grain.GetInfoAsync(null), i => i?.Running == action, TimeSpan.FromSeconds(15), $"{action} to run");

        var cancelled = Stopwatch.GetTimestamp();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        var free = await Poll.UntilAsync(() => grain.GetInfoAsync(null), i => i?.Running is null, TimeSpan.FromSeconds(10), $"{action} to end", TimeSpan.FromMilliseconds(10));
        var took = Stopwatch.GetElapsedTime(cancelled);

        Assert.Equal(before.Actions, free!.Actions);
        return took;
    }

    private async Task AssertLoggedCancelledAsync(string session, string tool) =>
        await Poll.UntilAsync(
            () => fixture.Host.Logs.Entries.Any(e => e.Category == "Anchor.Orleans.Api.Mcp.ToolCalls" && Equals(e.Field("SessionId"), session) && Equals(e.Field("Tool"), tool)
                && Equals(e.Field("Outcome"), "cancelled") && Equals(e.Field("Success"), false) && Equals(e.Field("CostUsd"), 0m)),
            TimeSpan.FromSeconds(10),
            $"{tool} to be logged as cancelled");
}
