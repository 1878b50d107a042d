using System.Collections.Concurrent;
using System.Text.Json;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;

namespace Anchor.Orleans.Api.Tests.Egress;

/// <summary>
/// A silo that may also reach <c>127.0.0.1</c>, a cookie origin on <c>localhost</c>, a launching site on another
/// port of <c>localhost</c> (same-site, cross-origin) and of <c>127.0.0.1</c> (cross-site), and the same Chromium
/// launched by Playwright with the engine's switches and no service in between: the reference.
/// </summary>
public sealed class SameSiteFixture : BrowserAppFixture
{
    public CookieOrigin Origin { get; } = new();

    public LaunchSite Launcher { get; } = new();

    private IPlaywright? _playwright;

    /// <summary>Chromium without the service: the engine's switches, less the one that leaves name resolution to the proxy (the reference has no proxy).</summary>
    public IBrowser Reference { get; private set; } = null!;

    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Browser:AllowedHosts:1", "127.0.0.1"),
        ("Anchor:RateLimit:MaxRequests", "10000"));

    public override async ValueTask InitializeAsync()
    {
        await Origin.StartAsync();
        await Launcher.StartAsync();
        await base.InitializeAsync();
        _playwright = await Playwright.CreateAsync();
        Reference = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = new BrowserOptions().ExecutablePath,
            Headless = true,
            Args = RawChromium.ServiceSwitches,
        });
    }

    public override async ValueTask DisposeAsync()
    {
        await Reference.CloseAsync();
        _playwright?.Dispose();
        await base.DisposeAsync();
        await Launcher.DisposeAsync();
        await Origin.DisposeAsync();
    }
}

/// <summary>
/// Sets one cookie of each SameSite kind (<c>/set</c>) and records, per id, the method and the cookie names of each
/// request to <c>/record/{id}</c> (GET or POST; it answers a small page, an image-less body, to anyone).
/// </summary>
public sealed class CookieOrigin : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, string> _seen = new(StringComparer.Ordinal);
    private LoopbackApp? _app;

    public int Port => _app!.Port;

    public string Url(string path) => $"http://localhost:{Port}{path}";

    /// <summary>"METHOD name,name" for the first request of <paramref name="id"/>, or null while none came.</summary>
    public string? Seen(string id) => _seen.GetValueOrDefault(id);

    public async Task StartAsync() => _app = await LoopbackApp.StartAsync(app =>
    {
        app.MapGet("/set", (HttpContext http) =>
        {
            http.Response.Headers.Append("Set-Cookie", "strict=1; Path=/; SameSite=Strict");
            http.Response.Headers.Append("Set-Cookie", "lax=1; Path=/; SameSite=Lax");
            http.Response.Headers.Append("Set-Cookie", "none=1; Path=/; SameSite=None; Secure");
            http.Response.Headers.Append("Set-Cookie", "unset=1; Path=/");
            return Results.Content("<!doctype html><title>Cookies set</title><p>set</p>", "text/html; charset=utf-8");
        });
        app.Map("/record/{id}", (HttpContext http, string id) =>
        {
            var names = http.Request.Cookies.Keys.Order(StringComparer.Ordinal);
            _seen.TryAdd(id, $"{http.Request.Method} {string.Join(',', names)}");
            http.Response.Headers.AccessControlAllowOrigin = "*";
            return Results.Content("<!doctype html><title>Recorded</title><p>recorded</p>", "text/html; charset=utf-8");
        });
    });

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>Pages that send one request to a target in one way each: a link followed by script, an auto-submitted POST form, an image, fetch, an iframe.</summary>
public sealed class LaunchSite : IAsyncDisposable
{
    private LoopbackApp? _app;

    public int Port => _app!.Port;

    public string Url(string host, string kind, string target) => $"http://{host}:{Port}/launch?kind={kind}&url={Uri.EscapeDataString(target)}";

    public async Task StartAsync() =>
        _app = await LoopbackApp.StartAsync(app => app.MapGet("/launch", (string kind, string url) => Results.Content(Page(kind, url), "text/html; charset=utf-8")));

    private static string Page(string kind, string url) => $$"""
        <!doctype html><title>Launch</title><body><form id="f" method="post"><input name="q" value="1"></form><script>
        const u = {{JsonSerializer.Serialize(url)}};
        switch ({{JsonSerializer.Serialize(kind)}}) {
          case 'link': setTimeout(() => { location.href = u; }, 10); break;
          case 'post': { const f = document.getElementById('f'); f.action = u; setTimeout(() => f.submit(), 10); break; }
          case 'img': { const i = new Image(); i.src = u; document.body.append(i); break; }
          case 'fetch': fetch(u, { credentials: 'include', mode: 'no-cors' }); break;
          case 'iframe': { const f = document.createElement('iframe'); f.src = u; document.body.append(f); break; }
        }
        </script></body>
        """;

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>
/// The SameSite matrix: cookies Strict, Lax, None (Secure) and without the attribute, set by <c>localhost</c>, sent
/// (or not) with a page-initiated top-level GET, a POST form, an image, a fetch, an iframe, and the agent's own
/// navigation, from a same-site page and from a cross-site one. What the origin receives through the service must be
/// what the same Chromium sends without the service in between, computed now from the reference browser (nothing is
/// hard-coded). Plain http only: the loopback fixtures have no certificates, so <c>SameSite=None; Secure</c> is kept
/// or dropped by Chromium's own rules for http://localhost, on both sides alike.
/// </summary>
public sealed class SameSiteCookieTests(SameSiteFixture fixture) : IClassFixture<SameSiteFixture>
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData("localhost", "link")]
    [InlineData("localhost", "post")]
    [InlineData("localhost", "img")]
    [InlineData("localhost", "fetch")]
    [InlineData("localhost", "iframe")]
    [InlineData("localhost", "agent")]
    [InlineData("127.0.0.1", "link")]
    [InlineData("127.0.0.1", "post")]
    [InlineData("127.0.0.1", "img")]
    [InlineData("127.0.0.1", "fetch")]
    [InlineData("127.0.0.1", "iframe")]
    [InlineData("127.0.0.1", "agent")]
    public async Task CookiesSent_ThroughTheService_AreWhatChromiumSendsWithoutIt(string launcherHost, string kind)
    {
        var reference = await ThroughReferenceAsync(launcherHost, kind);
        var service = await ThroughServiceAsync(launcherHost, kind);

        TestContext.Current.TestOutputHelper?.WriteLine($"{launcherHost} {kind}: reference '{reference}', service '{service}'");
        Assert.Equal(reference, service);
        Assert.StartsWith(kind == "post" ? "POST " : "GET ", service, StringComparison.Ordinal);
    }

    /// <summary>Control: the cookies were set on both sides alike (a same-origin request carries every one Chromium kept).</summary>
    [Fact]
    public async Task Control_SameOriginRequest_CarriesTheCookiesOnBothSides()
    {
        var reference = await ThroughReferenceAsync(null, "agent");
        var service = await ThroughServiceAsync(null, "agent");

        Assert.Equal(reference, service);
        Assert.Contains("lax", service, StringComparison.Ordinal);
        Assert.Contains("strict", service, StringComparison.Ordinal);
        Assert.Contains("unset", service, StringComparison.Ordinal);
    }

    private async Task<string> ThroughReferenceAsync(string? launcherHost, string kind)
    {
        var id = "ref-" + Guid.NewGuid().ToString("N");
        await using var context = await fixture.Reference.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            AcceptDownloads = false,
            ServiceWorkers = ServiceWorkerPolicy.Block,
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync(fixture.Origin.Url("/set"));
        await LaunchAsync(url => page.GotoAsync(url), launcherHost, kind, id);
        return await ArrivedAsync(id);
    }

    private async Task<string> ThroughServiceAsync(string? launcherHost, string kind)
    {
        var id = "svc-" + Guid.NewGuid().ToString("N");
        var (client, session) = await fixture.OpenSessionAsync();
        try
        {
            var set = await client.CallAsync("browser_navigate", new { url = fixture.Origin.Url("/set"), session_id = session });
            Assert.True(set.IsError != true, set.Text());
            await LaunchAsync(url => client.CallAsync("browser_navigate", new { url, session_id = session }), launcherHost, kind, id);
            return await ArrivedAsync(id);
        }
        finally
        {
            await client.CallAsync("browser_session_close", new { session_id = session });
        }
    }

    /// <summary>Opens the launching page (or, for the agent's own navigation, opens it idle and then navigates to the target).</summary>
    private async Task LaunchAsync(Func<string, Task> navigate, string? launcherHost, string kind, string id)
    {
        var target = fixture.Origin.Url($"/record/{id}");
        if (launcherHost is not null)
        {
            await navigate(fixture.Launcher.Url(launcherHost, kind == "agent" ? "idle" : kind, target));
        }

        if (kind == "agent")
        {
            await navigate(target);
        }
    }

    private async Task<string> ArrivedAsync(string id) =>
        (await Poll.UntilAsync(() => Task.FromResult(fixture.Origin.Seen(id)), s => s is not null, Arrival, $"request {id} to reach the origin"))!;
}
