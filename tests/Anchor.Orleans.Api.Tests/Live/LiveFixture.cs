using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Testing;
using Microsoft.Playwright;

namespace Anchor.Orleans.Api.Tests.Live;

/// <summary>A silo with real Chromium, short action limits (so a person holding control outlasts one), and a second Chromium for the viewer.</summary>
public class LiveFixture : BrowserAppFixture
{
    private IPlaywright? _playwright;

    /// <summary>The person's browser: plain Chromium, no service in between.</summary>
    public IBrowser Viewer { get; private set; } = null!;

    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Sessions:ActionTimeoutSeconds", "6"),
        ("Anchor:Sessions:MaxConcurrent", "30"),
        ("Anchor:Sessions:MaxPerClient", "30"),
        ("Anchor:RateLimit:MaxRequests", "10000"));

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _playwright = await Playwright.CreateAsync();
        Viewer = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox"] });
    }

    public override async ValueTask DisposeAsync()
    {
        await Viewer.CloseAsync();
        _playwright?.Dispose();
        await base.DisposeAsync();
    }

    /// <summary>An operator's <c>POST /api/sessions/{id}/live</c>: the answer's status and body.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> MintAsync(string sessionId, string mode = "view", int? ttlSeconds = null, string apiKey = TestKeys.Operator)
    {
        using var http = Host.CreateClient(apiKey);
        using var response = await http.PostAsJsonAsync($"/api/sessions/{sessionId}/live", new { mode, ttl_seconds = ttlSeconds }, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    /// <summary>A minted link's URL (asserting it was minted).</summary>
    public async Task<string> LinkAsync(string sessionId, string mode = "view", int? ttlSeconds = null)
    {
        var (status, body) = await MintAsync(sessionId, mode, ttlSeconds);
        Assert.Equal(HttpStatusCode.Created, status);
        return body.GetProperty("url").GetString()!;
    }

    /// <summary>Opens <paramref name="url"/> in a fresh viewer context (its own cookies) and answers the page once its view is up.</summary>
    public async Task<IPage> OpenViewerAsync(string url, string state = "live")
    {
        var context = await Viewer.NewContextAsync();
        var page = await context.NewPageAsync();
        var response = await page.GotoAsync(url);
        Assert.Equal(200, response!.Status);
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", state, new() { Timeout = 15_000 });
        await FramesAtLeastAsync(page, 1);
        return page;
    }

    public static async Task<int> FramesAsync(IPage page) =>
        int.Parse((await page.Locator("[data-live-frame]").GetAttributeAsync("data-frames"))!, System.Globalization.CultureInfo.InvariantCulture);

    public static Task FramesAtLeastAsync(IPage page, int count) =>
        Poll.UntilAsync(() => FramesAsync(page), n => n >= count, TimeSpan.FromSeconds(15), $"at least {count} frames shown");

    /// <summary>A plain GET of a link without any cookie (a second person, or a replay).</summary>
    public async Task<HttpStatusCode> GetWithoutCookieAsync(string url)
    {
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false });
        using var response = await http.GetAsync(url, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain("data-live-frame", body, StringComparison.Ordinal);
        return response.StatusCode;
    }
}
