using Anchor.Orleans.Testing;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Anchor.Orleans.Api.Tests.OperatorConsole;

/// <summary>Every console page, at a laptop's and a phone's size: axe-core finds no serious or critical violation; a screenshot of each is kept.</summary>
public sealed class ConsoleAccessibilityTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    private static readonly (int Width, int Height)[] Sizes = [(1280, 800), (390, 844)];

    [Fact]
    public async Task EveryPage_HasNoSeriousOrCriticalViolations_AtBothSizes()
    {
        var (agent, sessionId) = await fixture.OpenSessionAsync();
        await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = sessionId });
        (string Name, string Path)[] pages =
        [
            ("overview", "/console"),
            ("sessions", "/console/sessions"),
            ("session", $"/console/sessions/{sessionId}"),
            ("clients", "/console/clients"),
            ("alerts", "/console/alerts"),
            ("emergency", "/console/emergency"),
        ];
        var failures = new List<string>();
        foreach (var (width, height) in Sizes)
        {
            var signIn = await fixture.NewPageAsync(width, height);
            await signIn.GotoAsync(fixture.Url("/console/sign-in"));
            await CheckAsync(signIn, "sign-in", width, height, failures);
            await signIn.Context.CloseAsync();

            var page = await fixture.SignedInPageAsync(width, height);
            foreach (var (name, path) in pages)
            {
                var response = await page.GotoAsync(fixture.Url(path));
                Assert.Equal(200, response!.Status);
                await Assertions.Expect(page.Locator("main h1")).ToBeVisibleAsync();
                await CheckAsync(page, name, width, height, failures);
            }

            await page.Context.CloseAsync();
        }

        await agent.CallAsync("browser_session_close", new { session_id = sessionId });
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private async Task CheckAsync(IPage page, string name, int width, int height, List<string> failures)
    {
        await Assertions.Expect(page.Locator("main")).ToHaveCountAsync(1);
        var result = await page.RunAxe();
        failures.AddRange(result.Violations
            .Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{name} at {width}x{height}: {v.Impact} {v.Id}: {v.Help} ({string.Join("; ", v.Nodes.Select(n => n.Html))})"));
        var file = Path.Combine(fixture.ScreenshotDirectory, $"{name}-{width}x{height}.png");
        await page.ScreenshotAsync(new() { Path = file, FullPage = true });
        TestContext.Current.TestOutputHelper?.WriteLine($"screenshot: {file}");
    }
}
