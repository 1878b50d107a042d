using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Anchor.Orleans.Api.Tests.Sessions;

/// <summary>The per-silo browser: no Chromium outlives the app, remote browsers over CDP, and health when Chromium is missing.</summary>
public sealed class BrowserEngineTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private readonly FixtureSite _site = new();

    public ValueTask InitializeAsync() => _site.InitializeAsync();

    public ValueTask DisposeAsync() => _site.DisposeAsync();

    [Fact]
    public async Task StoppingTheApp_LeavesNoChromiumItStarted()
    {
        var host = await AnchorAppHost.StartAsync(BrowserAppFixture.BaseSettings());
        var marker = host.Services.GetRequiredService<BrowserEngine>().InstanceMarker;
        await using (var client = await McpTestClient.ConnectAsync(host, TestKeys.Agent))
        {
            var session = (await client.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString();
            await client.CallAsync("browser_navigate", new { url = _site.Url("/form"), session_id = session });
            await client.CallAsync("browser_navigate", new { url = _site.Url("/list") });
        }

        Assert.NotEmpty(ChromiumProcesses.WithMarker(marker));

        await host.DisposeAsync();

        await Poll.UntilAsync(() => ChromiumProcesses.WithMarker(marker).Count == 0, TimeSpan.FromSeconds(20), "every Chromium process of the app to exit");
        Assert.Empty(ChromiumProcesses.WithMarker(marker));
    }

    /// <summary>
    /// Issue 12's soak: every document a page had left stayed in its renderer (V8's compilation cache held the
    /// script context Playwright's injected script was compiled in), ~1 MB of JavaScript heap per navigation. Each
    /// round here is what a tool call does: navigate, then read the accessibility snapshot. With the cache on, the
    /// heap held 146 MB after 200 rounds; without it 9 MB (the ordinary collector lets it reach ~60 MB between runs).
    /// </summary>
    [Fact]
    public async Task RendererHeap_StaysBounded_WhenOnePageNavigatesAndSnapshotsManyTimes()
    {
        const int Rounds = 200;
        await using var host = await AnchorAppHost.StartAsync(BrowserAppFixture.BaseSettings());
        var (context, egress) = await host.Services.GetRequiredService<BrowserEngine>().NewContextAsync([], cancellationToken: Ct);
        try
        {
            var page = await context.NewPageAsync();
            var cdp = await context.NewCDPSessionAsync(page);
            for (var i = 0; i < Rounds; i++)
            {
                await page.GotoAsync(_site.Url("/form"), new PageGotoOptions { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 30_000 });
                await page.AriaSnapshotAsync(new PageAriaSnapshotOptions { Mode = AriaSnapshotMode.Ai, Timeout = 30_000 });
            }

            var heap = (await cdp.SendAsync("Runtime.getHeapUsage").WaitAsync(TimeSpan.FromSeconds(30), Ct))!.Value;
            var usedMb = heap.GetProperty("usedSize").GetDouble() / 1048576;
            Assert.True(usedMb < 100, $"the renderer's JavaScript heap holds {usedMb:F0} MB after {Rounds} navigations of one page");
        }
        finally
        {
            await context.CloseAsync();
            egress?.Dispose();
        }
    }

    /// <summary>
    /// Chromium keeps only the last <c>--disable-features</c> switch; the engine's repeats the driver's list. When the
    /// driver changes its list (a Playwright upgrade), this names what to copy.
    /// </summary>
    [Fact]
    public void DriverDisabledFeatures_AreTheListTheShippedDriverPasses()
    {
        var bundle = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, ".playwright", "package", "lib", "coreBundle.js"));
        var start = bundle.IndexOf("disabledFeatures = [", StringComparison.Ordinal);
        Assert.True(start >= 0, "the driver's bundle no longer declares disabledFeatures; find where its --disable-features comes from");
        var end = bundle.IndexOf(']', start);
        var driver = bundle[start..end].Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.StartsWith('"'))
            .Select(line => line.TrimEnd(',').Trim('"'))
            .ToList();

        Assert.Equal(driver, BrowserEngine.DriverDisabledFeatures);
    }

    /// <summary>
    /// A headless service shows no address bar: Chromium 156 built its WebUI popups (a renderer) for every context's
    /// window. Only pages run now, and the browser's one <c>--disable-features</c> switch keeps the driver's features off.
    /// </summary>
    [Fact]
    public async Task Chromium_RunsNoBrowserUiPerContext_AndKeepsTheDriversFeaturesOff()
    {
        await using var host = await AnchorAppHost.StartAsync(BrowserAppFixture.BaseSettings());
        var engine = host.Services.GetRequiredService<BrowserEngine>();
        var opened = new List<(IBrowserContext Context, IDisposable? Egress)>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var (context, egress) = await engine.NewContextAsync([], cancellationToken: Ct);
                opened.Add((context, egress));
                await (await context.NewPageAsync()).GotoAsync(_site.Url("/a"));
            }

            var cdp = await opened[0].Context.Browser!.NewBrowserCDPSessionAsync();
            var targets = (await cdp.SendAsync("Target.getTargets", new() { ["filter"] = new[] { new Dictionary<string, object>() } }).WaitAsync(TimeSpan.FromSeconds(30), Ct))!.Value
                .GetProperty("targetInfos").EnumerateArray()
                .Select(t => $"{t.GetProperty("type").GetString()} {t.GetProperty("url").GetString()}")
                .ToList();
            var browser = ChromiumProcesses.WithMarker(engine.InstanceMarker).Single(pid => ChromiumProcesses.TypeOf(pid) is null);
            var disabled = ChromiumProcesses.CommandLine(browser).Last(a => a.StartsWith("--disable-features=", StringComparison.Ordinal))["--disable-features=".Length..].Split(',');

            Assert.Equal(3, targets.Count(t => t.StartsWith("page ", StringComparison.Ordinal)));
            Assert.DoesNotContain(targets, t => t.StartsWith("browser_ui ", StringComparison.Ordinal));
            Assert.Equal([.. BrowserEngine.DriverDisabledFeatures, .. BrowserEngine.UnusedUiFeatures], disabled);
        }
        finally
        {
            foreach (var (context, egress) in opened)
            {
                await context.CloseAsync();
                egress?.Dispose();
            }
        }
    }

    [Fact]
    public async Task ChromiumKilledUnderASession_EndsTheSession_AndTheNextSessionGetsAFreshBrowser()
    {
        await using var host = await AnchorAppHost.StartAsync(BrowserAppFixture.BaseSettings());
        var marker = host.Services.GetRequiredService<BrowserEngine>().InstanceMarker;
        await using var client = await McpTestClient.ConnectAsync(host, TestKeys.Agent);
        var session = (await client.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString();
        await client.CallAsync("browser_navigate", new { url = _site.Url("/a"), session_id = session });

        foreach (var pid in ChromiumProcesses.TreeOf(marker))
        {
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException)
            {
                // Already gone with its parent.
            }
        }

        var during = await Poll.UntilAsync(
            () => client.CallAsync("browser_snapshot", new { session_id = session }),
            r => r.IsError == true,
            TimeSpan.FromSeconds(20),
            "the session to notice its browser is gone");
        var after = await client.CallAsync("browser_snapshot", new { session_id = session });
        var fresh = await client.CallAsync("browser_navigate", new { url = _site.Url("/b") });

        Assert.StartsWith($"browser_error: the browser of session '{session}' stopped during snapshot; the session was closed.", during.Text(), StringComparison.Ordinal);
        Assert.EndsWith("(failed); create a new session.", after.Text(), StringComparison.Ordinal);
        Assert.True(fresh.IsError != true, fresh.Text());
        Assert.Contains("This is B", fresh.Text(), StringComparison.Ordinal);
        await client.CallAsync("browser_close");
    }

    [Fact]
    public async Task RemoteBrowser_OverCdp_ServesSessions_AndIsNotKilledByTheApp()
    {
        var port = FreePorts.Next();
        var profile = Directory.CreateTempSubdirectory("anchor-cdp-");
        var marker = $"--anchor-test-cdp={Guid.NewGuid():N}";
        var start = new ProcessStartInfo("/usr/bin/chromium") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-address=127.0.0.1",
            $"--remote-debugging-port={port.ToString(CultureInfo.InvariantCulture)}", $"--user-data-dir={profile.FullName}", marker, "about:blank",
        })
        {
            start.ArgumentList.Add(arg);
        }

        using var chromium = Process.Start(start)!;
        chromium.OutputDataReceived += (_, _) => { };
        chromium.ErrorDataReceived += (_, _) => { };
        chromium.BeginOutputReadLine();
        chromium.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient();
            await Poll.UntilAsync(
                async () => (await http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{port}/json/version", Ct)).TryGetProperty("webSocketDebuggerUrl", out _),
                TimeSpan.FromSeconds(30),
                "Chromium's DevTools endpoint");

            var host = await AnchorAppHost.StartAsync(BrowserAppFixture.BaseSettings(("Anchor:Browser:CdpEndpoint", $"http://127.0.0.1:{port}")));
            await using (var client = await McpTestClient.ConnectAsync(host, TestKeys.Agent))
            {
                var navigated = await client.CallAsync("browser_navigate", new { url = _site.Url("/b") });
                Assert.True(navigated.IsError != true, navigated.Text());
                Assert.Contains("This is B", navigated.Text(), StringComparison.Ordinal);
                await client.CallAsync("browser_close");
            }

            using var health = await host.CreateClient(TestKeys.Operator).GetFromJsonAsync<JsonDocument>("/health", Ct);
            Assert.Equal("cdp", health!.RootElement.GetProperty("checks").GetProperty("browser").GetProperty("data").GetProperty("mode").GetString());
            await host.DisposeAsync();

            Assert.False(chromium.HasExited, "the provider's browser must outlive the silo that used it");
        }
        finally
        {
            chromium.Kill(entireProcessTree: true);
            await chromium.WaitForExitAsync(Ct);
            profile.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Health_IsDegradedWithTheReason_WhenChromiumCannotLaunch_AndToolsAnswerBrowserError()
    {
        await using var host = await AnchorAppHost.StartAsync(BrowserAppFixture.BaseSettings(("Anchor:Browser:ExecutablePath", "/nonexistent/chromium")));

        using var response = await host.CreateClient(TestKeys.Operator).GetAsync("/health", Ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        await using var client = await McpTestClient.ConnectAsync(host, TestKeys.Agent);
        var call = await client.CallAsync("browser_navigate", new { url = _site.Url("/a") });

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Degraded", body.GetProperty("status").GetString());
        var browser = body.GetProperty("checks").GetProperty("browser");
        Assert.Equal("Degraded", browser.GetProperty("status").GetString());
        Assert.StartsWith("browser_error: Chromium cannot launch from /nonexistent/chromium (", browser.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.True(call.IsError == true);
        Assert.StartsWith("browser_error: Chromium cannot launch from /nonexistent/chromium (", call.Text(), StringComparison.Ordinal);
    }
}
