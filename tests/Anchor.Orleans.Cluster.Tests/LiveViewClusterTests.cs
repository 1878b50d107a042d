using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Testing;
using Microsoft.Playwright;

namespace Anchor.Orleans.Cluster.Tests;

/// <summary>
/// Two silo processes on real Redis behind nginx: a live link minted through the balancer, opened through nginx on the
/// silo that does not hold the session (page and WebSocket), shows its frames (they cross silos as an
/// <c>IAsyncEnumerable</c> grain call).
/// </summary>
public sealed class LiveViewClusterTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private readonly FixtureSite _site = new();

    public ValueTask InitializeAsync() => _site.InitializeAsync();

    public ValueTask DisposeAsync() => _site.DisposeAsync();

    [Fact]
    public async Task Viewer_OnTheSiloWithoutTheSession_SeesFramesChange_AsTheAgentNavigates()
    {
        await using var cluster = await BalancedCluster.StartAsync(redis, 2);
        // The session opens on the silo whose front took the call: silo 0.
        await using var agent = await McpTestClient.ConnectAsync(cluster.Silos[0].BaseAddress, TestKeys.Agent);
        var created = await agent.CallAsync("browser_session_create");
        Assert.True(created.IsError != true, created.Text());
        var sessionId = created.Json().GetProperty("session_id").GetString()!;
        await agent.CallAsync("browser_navigate", new { url = _site.Url("/a"), session_id = sessionId });

        using var ops = cluster.CreateClient(TestKeys.Operator);
        using var minted = await ops.PostAsJsonAsync($"/api/sessions/{sessionId}/live", new { mode = "view" }, Ct);
        Assert.Equal(HttpStatusCode.Created, minted.StatusCode);
        var link = new Uri((await minted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("url").GetString()!);
        // The viewer's ingress: nginx in front of silo 1 alone, so the page and its /ws both reach the silo without the session.
        await using var toOtherSilo = await NginxBalancer.StartAsync([cluster.Ports[1]]);
        var onOtherSilo = new Uri(toOtherSilo.BaseAddress, link.AbsolutePath);

        using var playwright = await Playwright.CreateAsync();
        await using var viewer = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox"] });
        var page = await viewer.NewPageAsync();
        Assert.Equal(200, (await page.GotoAsync(onOtherSilo.AbsoluteUri))!.Status);
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "live", new() { Timeout = 20_000 });
        await Assertions.Expect(page.Locator("#title")).ToHaveTextAsync("Page A", new() { Timeout = 20_000 });
        var before = int.Parse((await page.Locator("[data-live-frame]").GetAttributeAsync("data-frames"))!, System.Globalization.CultureInfo.InvariantCulture);

        await agent.CallAsync("browser_navigate", new { url = _site.Url("/b"), session_id = sessionId });

        await Assertions.Expect(page.Locator("#title")).ToHaveTextAsync("Page B", new() { Timeout = 20_000 });
        var after = int.Parse((await page.Locator("[data-live-frame]").GetAttributeAsync("data-frames"))!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(after > before, $"frames {before} → {after}");
        await agent.CallAsync("browser_session_close", new { session_id = sessionId });
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "ended", new() { Timeout = 5_000 });

        // Every request of the viewer went through nginx to silo 1: the page, and its WebSocket (logged once it closed).
        var upstreams = await Poll.UntilAsync(() => Task.FromResult(toOtherSilo.Upstreams()), u => u.Count >= 2, TimeSpan.FromSeconds(10), "the page and its WebSocket in nginx's log");
        Assert.All(upstreams, upstream => Assert.Equal($"127.0.0.1:{cluster.Ports[1]}", upstream));
    }
}
