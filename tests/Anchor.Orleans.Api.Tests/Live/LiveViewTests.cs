using System.Net;
using System.Text.RegularExpressions;
using Anchor.Orleans.Testing;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Anchor.Orleans.Api.Tests.Live;

/// <summary>Operators watch and take over a session through a one-time link, in a real browser.</summary>
public sealed partial class LiveViewTests(LiveFixture fixture) : IClassFixture<LiveFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task View_ShowsFramesThatChange_AsTheAgentNavigates()
    {
        var (agent, sessionId) = await fixture.OpenSessionAsync();
        await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = sessionId });

        var viewer = await fixture.OpenViewerAsync(await fixture.LinkAsync(sessionId));
        await Assertions.Expect(viewer.Locator("#title")).ToHaveTextAsync("Page A", new() { Timeout = 10_000 });
        await Assertions.Expect(viewer.Locator("#url")).ToHaveTextAsync(fixture.Site.Url("/a"));
        var before = await LiveFixture.FramesAsync(viewer);
        var firstFrame = await viewer.Locator("[data-live-frame]").GetAttributeAsync("src");

        await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/b"), session_id = sessionId });

        await Assertions.Expect(viewer.Locator("#title")).ToHaveTextAsync("Page B", new() { Timeout = 10_000 });
        await LiveFixture.FramesAtLeastAsync(viewer, before + 1);
        Assert.NotEqual(firstFrame, await viewer.Locator("[data-live-frame]").GetAttributeAsync("src"));
        Assert.Equal("live", await viewer.Locator("body").GetAttributeAsync("data-state"));
    }

    [Fact]
    public async Task ViewLink_OpensOnce_ASecondOpenWithoutTheCookieIs404()
    {
        var (_, sessionId) = await fixture.OpenSessionAsync();
        var url = await fixture.LinkAsync(sessionId);

        var viewer = await fixture.OpenViewerAsync(url);

        Assert.Equal(HttpStatusCode.NotFound, await fixture.GetWithoutCookieAsync(url));
        // The browser that opened it holds the cookie: a reload shows the view again.
        var reload = await viewer.ReloadAsync();
        Assert.Equal(200, reload!.Status);
        await Assertions.Expect(viewer.Locator("body")).ToHaveAttributeAsync("data-state", "live", new() { Timeout = 15_000 });
        var token = url[(url.LastIndexOf('/') + 1)..];
        Assert.DoesNotContain(token, fixture.Host.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RevokedLink_Is410_AndAnOpenViewEnds()
    {
        var (_, sessionId) = await fixture.OpenSessionAsync();
        var watched = await fixture.OpenViewerAsync(await fixture.LinkAsync(sessionId));
        var unopened = await fixture.LinkAsync(sessionId);

        using var ops = fixture.Host.CreateClient(TestKeys.Operator);
        using var revoked = await ops.DeleteAsync($"/api/sessions/{sessionId}/live", Ct);

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, await fixture.GetWithoutCookieAsync(unopened));
        await Assertions.Expect(watched.Locator("body")).ToHaveAttributeAsync("data-state", "ended", new() { Timeout = 5_000 });
    }

    [Fact]
    public async Task ExpiredLink_Is410()
    {
        var (_, sessionId) = await fixture.OpenSessionAsync();
        var (_, body) = await fixture.MintAsync(sessionId, ttlSeconds: 1);
        var expiresAt = body.GetProperty("expires_at").GetDateTimeOffset();

        await Poll.UntilAsync(() => DateTimeOffset.UtcNow > expiresAt, TimeSpan.FromSeconds(5), "the link's expiry");

        Assert.Equal(HttpStatusCode.Gone, await fixture.GetWithoutCookieAsync(body.GetProperty("url").GetString()!));
    }

    [Fact]
    public async Task AgentKeys_CannotMint_NotEvenForTheirOwnSession()
    {
        var (_, sessionId) = await fixture.OpenSessionAsync(TestKeys.Agent);

        Assert.Equal(HttpStatusCode.Forbidden, (await fixture.MintAsync(sessionId, apiKey: TestKeys.OtherAgent)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await fixture.MintAsync(sessionId, apiKey: TestKeys.Agent)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.MintAsync("no-such-session")).Status);
    }

    [Fact]
    public async Task Control_ClickOnTheFrame_ReachesThePage_AndTheAgentSeesIt()
    {
        var (agent, sessionId) = await fixture.OpenSessionAsync();
        await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/xy"), session_id = sessionId });
        var viewer = await fixture.OpenViewerAsync(await fixture.LinkAsync(sessionId, "control"), "control");
        var frame = viewer.Locator("[data-live-frame]");
        var box = (await frame.BoundingBoxAsync())!;

        await frame.ClickAsync(new() { Position = new Position { X = box.Width / 4, Y = box.Height / 4 } });
        await viewer.Locator("#done").ClickAsync();
        await Assertions.Expect(viewer.Locator("body")).ToHaveAttributeAsync("data-state", "live");

        var snapshot = (await agent.CallAsync("browser_snapshot", new { session_id = sessionId })).Text();
        var clicked = ClickedAt().Match(snapshot);
        Assert.True(clicked.Success, snapshot);
        // A quarter of the 1280×800 viewport, within the rounding of the scaled frame.
        Assert.InRange(int.Parse(clicked.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 318, 322);
        Assert.InRange(int.Parse(clicked.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), 198, 202);
    }

    [Fact]
    public async Task Control_TypingOnTheFrame_ReachesThePage_AndTheAgentSeesIt()
    {
        var (agent, sessionId) = await fixture.OpenSessionAsync();
        await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = sessionId });
        var viewer = await fixture.OpenViewerAsync(await fixture.LinkAsync(sessionId, "control"), "control");

        await viewer.Locator("[data-live-frame]").FocusAsync();
        await viewer.Keyboard.PressAsync("Tab"); // The page's first field.
        await viewer.Keyboard.TypeAsync("Ada");
        await viewer.Keyboard.PressAsync("Enter");
        await viewer.Locator("#done").ClickAsync();

        var snapshot = (await agent.CallAsync("browser_snapshot", new { session_id = sessionId })).Text();
        Assert.Contains("Submitted Ada", snapshot, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentAction_WaitsWhileAPersonHoldsControl_AndProceedsAfterDone()
    {
        var (agent, sessionId) = await fixture.OpenSessionAsync();
        var viewer = await fixture.OpenViewerAsync(await fixture.LinkAsync(sessionId, "control"), "control");

        var navigate = agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/b"), session_id = sessionId });
        var first = await Task.WhenAny(navigate, Task.Delay(TimeSpan.FromSeconds(2), Ct));
        Assert.NotSame(navigate, first);

        await viewer.Locator("#done").ClickAsync();
        var result = await navigate.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.NotEqual(true, result.IsError);
        Assert.Contains("Page B", result.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentAction_WhileAPersonKeepsControlPastTheActionLimit_IsHumanInControl()
    {
        var (agent, sessionId) = await fixture.OpenSessionAsync();
        await fixture.OpenViewerAsync(await fixture.LinkAsync(sessionId, "control"), "control");

        var result = await agent.CallAsync("browser_snapshot", new { session_id = sessionId });

        Assert.True(result.IsError);
        Assert.Equal(
            $"human_in_control: a person is in control of session '{sessionId}' and did not hand it back within 6 s; retry after 10 s.",
            result.Text());
    }

    [Fact]
    public async Task Page_HasNoSeriousAccessibilityViolations_AndDoneWorksByKeyboard_InEachState()
    {
        var (agent, sessionId) = await fixture.OpenSessionAsync();
        await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = sessionId });
        var viewer = await fixture.OpenViewerAsync(await fixture.LinkAsync(sessionId, "control"), "control");
        await CheckAccessibleAsync(viewer, "control");

        // From the frame (which keeps Tab for the page in control), Shift+Tab reaches Done; Enter presses it.
        await viewer.Locator("[data-live-frame]").FocusAsync();
        await viewer.Keyboard.PressAsync("Shift+Tab");
        await Assertions.Expect(viewer.Locator("#done")).ToBeFocusedAsync();
        await viewer.Keyboard.PressAsync("Enter");
        await Assertions.Expect(viewer.Locator("body")).ToHaveAttributeAsync("data-state", "live", new() { Timeout = 5_000 });
        await CheckAccessibleAsync(viewer, "live");

        await agent.CallAsync("browser_session_close", new { session_id = sessionId });
        await Assertions.Expect(viewer.Locator("body")).ToHaveAttributeAsync("data-state", "ended", new() { Timeout = 5_000 });
        await CheckAccessibleAsync(viewer, "ended");
    }

    /// <summary>axe-core finds nothing serious or critical, at a desktop and a phone size; a screenshot of each is kept.</summary>
    private static async Task CheckAccessibleAsync(IPage viewer, string state)
    {
        var screenshots = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "TestResults", "live-screenshots")).FullName;
        foreach (var (width, height) in new[] { (1280, 800), (390, 844) })
        {
            await viewer.SetViewportSizeAsync(width, height);
            var results = await viewer.RunAxe();
            var serious = results.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{v.Id} ({v.Impact}): {v.Help}").ToList();
            Assert.True(serious.Count == 0, $"{state} at {width}x{height}: {string.Join("; ", serious)}");
            await viewer.ScreenshotAsync(new() { Path = Path.Combine(screenshots, $"{state}-{width}x{height}.png"), FullPage = true });
        }
    }

    [GeneratedRegex(@"clicked at (\d+),(\d+)")]
    private static partial Regex ClickedAt();
}
