using Anchor.Orleans.Testing;
using Microsoft.Playwright;

namespace Anchor.Orleans.Api.Tests.OperatorConsole;

/// <summary>
/// One silo with real Chromium and real Redis (storage and clustering), and one Chromium for the operator's browser,
/// shared by the console's tests. Pages sign in through the console's own form.
/// </summary>
public sealed class ConsoleFixture : BrowserAppFixture
{
    private IPlaywright? _playwright;

    public RedisServer Redis { get; } = new();

    /// <summary>The operator's browser: plain Chromium, no service in between.</summary>
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where the tests leave their screenshots.</summary>
    public string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "console-screenshots");

    protected override Dictionary<string, string?> Settings()
    {
        var settings = BaseSettings(
            ("Anchor:Sessions:MaxConcurrent", "20"),
            ("Anchor:Sessions:MaxPerClient", "20"),
            ("Anchor:RateLimit:MaxRequests", "10000"),
            ("Anchor:Console:GrafanaUrl", "http://grafana.example.test/d/anchor"),
            ($"Anchor:Clients:{TestKeys.OtherAgentClient}:Recording", "trace"));
        foreach (var (key, value) in AnchorAppHost.RedisSettings(Redis, $"console-{Guid.NewGuid():N}"))
        {
            settings[key] = value;
        }

        return settings;
    }

    public override async ValueTask InitializeAsync()
    {
        await Redis.InitializeAsync();
        await base.InitializeAsync();
        _playwright = await Playwright.CreateAsync();
        var chromium = new[] { "/usr/lib/chromium/chromium", "/usr/bin/chromium" }.First(File.Exists);
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"] });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    public override async ValueTask DisposeAsync()
    {
        await Browser.CloseAsync();
        _playwright?.Dispose();
        await base.DisposeAsync();
        await Redis.DisposeAsync();
    }

    public string Url(string path) => new Uri(Host.BaseAddress, path.TrimStart('/')).ToString();

    /// <summary>A fresh browser context (its own cookies) at <paramref name="width"/>×<paramref name="height"/>, on the sign-in page.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    /// <summary>Fills the sign-in form with <paramref name="key"/> and submits it; answers the status of the form's POST (302 when signed in).</summary>
    public async Task<int> SubmitKeyAsync(IPage page, string key)
    {
        await page.GotoAsync(Url("/console/sign-in"));
        await page.GetByLabel("Operator API key").FillAsync(key);
        var response = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync(),
            r => r.Request.Method == "POST" && r.Url.EndsWith("/console/sign-in", StringComparison.Ordinal));
        return response.Status;
    }

    /// <summary>A page signed in with the operator key, on the overview.</summary>
    public async Task<IPage> SignedInPageAsync(int width = 1280, int height = 800)
    {
        var page = await NewPageAsync(width, height);
        await SubmitKeyAsync(page, TestKeys.Operator);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview", Level = 1 })).ToBeVisibleAsync();
        return page;
    }
}
