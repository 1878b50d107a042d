using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Bench.SideBySide;

/// <summary>
/// One silo in this process (Development: in-memory storage, governance on — API keys, admission with the rate
/// limiter, budget reservations, the emergency-stop switch), the fixture pages, and the C# MCP client.
/// </summary>
public sealed partial class BenchSilo : IAsyncDisposable
{
    private BenchSilo(FixtureSite site, AnchorAppHost host)
    {
        Site = site;
        Host = host;
    }

    public FixtureSite Site { get; }

    public AnchorAppHost Host { get; }

    /// <summary>The inert switch on this silo's Chromium command line (to find its processes).</summary>
    public string ChromiumMarker => Host.Services.GetRequiredService<BrowserEngine>().InstanceMarker;

    public static async Task<BenchSilo> StartAsync(int maxSessions, IEnumerable<KeyValuePair<string, string?>>? extra = null)
    {
        var site = new FixtureSite();
        await site.InitializeAsync();
        var limit = maxSessions.ToString(CultureInfo.InvariantCulture);
        var settings = BrowserAppFixture.BaseSettings(
            ("Anchor:Sessions:MaxConcurrent", limit),
            ("Anchor:Sessions:MaxPerClient", limit),
            ("Anchor:RateLimit:MaxRequests", "1000000"),
            ("Anchor:Browser:ElementTimeoutSeconds", "10"),
            ("Anchor:Sessions:MaxDurationSeconds", "7200"),
            ("Anchor:Sessions:IdleTimeoutSeconds", "3600"),
            ("Anchor:Budget:DailyLimitUsd", "1000000"),
            ("Anchor:Budget:MonthlyLimitUsd", "10000000"),
            ("Anchor:Budget:EmergencyShutdownUsd", "10000000"),
            ("Logging:LogLevel:Default", "Warning"));
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var host = await AnchorAppHost.StartAsync(settings);
        return new BenchSilo(site, host);
    }

    public Task<McpClient> ConnectAsync() => McpTestClient.ConnectAsync(Host, TestKeys.Agent);

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Site.DisposeAsync();
    }
}

/// <summary>Tool calls timed, failing loudly (a benchmark that times error answers measures nothing).</summary>
public static partial class Calls
{
    public static async Task<(double Ms, string Text)> TimedAsync(McpClient client, string tool, object arguments)
    {
        var watch = Stopwatch.StartNew();
        var result = await client.CallAsync(tool, arguments);
        var ms = watch.Elapsed.TotalMilliseconds;
        var text = result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text ?? "";
        return result.IsError == true ? throw new InvalidOperationException($"{tool} failed: {text}") : (ms, text);
    }

    public static async Task<string> OpenSessionAsync(McpClient client)
    {
        var (_, text) = await TimedAsync(client, "browser_session_create", new { });
        return System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("session_id").GetString()!;
    }

    /// <summary>The ref of the aria-snapshot line for <paramref name="role"/> "<paramref name="name"/>".</summary>
    public static string RefOf(string snapshot, string role, string name)
    {
        var match = Regex.Match(snapshot, $"- {role} \"{Regex.Escape(name)}\"[^\\n]*\\[ref=([a-z0-9]+)\\]");
        return match.Success ? match.Groups[1].Value : throw new InvalidOperationException($"no {role} \"{name}\" with a ref in:\n{snapshot}");
    }
}

/// <summary>The floor: Playwright in this process driving a warm Chromium (the same executable and flags), no service.</summary>
public sealed class RawBrowser : IAsyncDisposable
{
    private readonly IPlaywright _playwright;

    private RawBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    /// <summary>Chromium with <paramref name="args"/>; by default only <c>--no-sandbox</c> (root), as a user of Playwright would launch it.</summary>
    public static async Task<RawBrowser> StartAsync(IReadOnlyList<string>? args = null)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = args ?? ["--no-sandbox"] });
        return new RawBrowser(playwright, browser);
    }

    /// <summary>The same snapshot the service returns (Playwright's AI-mode aria snapshot of the page).</summary>
    public static Task<string> SnapshotAsync(IPage page) => page.AriaSnapshotAsync(new PageAriaSnapshotOptions { Mode = AriaSnapshotMode.Ai });

    public async ValueTask DisposeAsync()
    {
        await Browser.CloseAsync();
        _playwright.Dispose();
    }
}
