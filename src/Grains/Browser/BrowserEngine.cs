using Anchor.Orleans.Grains.Browser.Egress;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// This silo's browser: one Chromium launched lazily (or one remote browser over CDP), relaunched when it dies,
/// handing out one isolated <see cref="IBrowserContext"/> per session. Disposing it closes the browser, so no
/// Chromium process or profile directory outlives the silo. A launched Chromium reaches the network only through
/// this silo's <see cref="EgressProxy"/>, each context with its own credentials; it resolves no name itself.
/// A remote browser (<c>Browser:CdpEndpoint</c>) cannot reach a proxy on this silo's loopback, so it connects by
/// itself: its requests (navigations included) are checked by the <see cref="NetworkGuard"/> before they continue, but not pinned.
/// </summary>
public sealed partial class BrowserEngine(IOptions<BrowserOptions> options, BrowserCircuit circuit, EgressProxy egress, TimeProvider time, ILogger<BrowserEngine> logger) : IAsyncDisposable
{
    /// <summary>How long a failed launch is remembered before the next attempt, so probes do not hammer a broken install.</summary>
    public static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(15);

    private static readonly string[] ContainerFlags =
    [
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--no-first-run",
        "--mute-audio",
    ];

    /// <summary>
    /// Chromium resolves no name itself (every name reaches the proxy unresolved; the proxy's own address is a literal),
    /// and WebRTC may not send UDP around the proxy.
    /// </summary>
    private static readonly string[] EgressFlags =
    [
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
        "--dns-prefetch-disable",
    ];

    /// <summary>
    /// V8's compilation cache off. Playwright evaluates its injected script once per document (every snapshot, ref and
    /// locator needs it), and the cache kept each of those compilations with its script context, so every document a
    /// page had left stayed alive in its renderer: about 1 MB per navigation, emptied only near V8's heap limit
    /// (issue 12's soak: renderers grew by 258 MB/min in all; bench/results/2026-11-30-soak.md). Without it the
    /// ordinary collector frees a left document; scripts compile once per document, as they would in a fresh tab.
    /// </summary>
    private static readonly string[] MemoryFlags = ["--js-flags=--no-compilation-cache"];

    /// <summary>
    /// The features Playwright's driver (1.64) launches Chromium without (its chromiumSwitches.ts). Chromium keeps only
    /// the last <c>--disable-features</c> switch, so the engine's own switch must repeat them or they would be on again;
    /// a test checks this list against the driver this build ships.
    /// </summary>
    public static readonly IReadOnlyList<string> DriverDisabledFeatures =
    [
        "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "DialMediaRouteProvider", "GlobalMediaControls",
        "HttpsUpgrades", "LensOverlay", "MediaRouter", "PaintHolding", "ThirdPartyStoragePartitioning",
        "BlockOriginHeaderModificationOnRedirect", "AvoidCorsURLLoaderRestartOnRedirect", "Translate", "AutoDeElevate",
        "OptimizationHints", "NetworkTimeServiceQuerying", "AimEnabled", "msForceBrowserSignIn", "msEdgeUpdateLaunchServicesPreferredVersion",
    ];

    /// <summary>
    /// Browser UI nobody sees in a headless service: Chromium 156 builds the address bar's WebUI popups
    /// (chrome://omnibox-popup.top-chrome) for every window, and Playwright opens a window per context, so each session
    /// paid renderer memory and CPU for them on every navigation: ~42 MB and about 40 ms of Chromium's CPU per
    /// navigation (bench/results/2026-12-05-density.md, figure 9). Pages, their isolation and site isolation are untouched.
    /// </summary>
    public static readonly IReadOnlyList<string> UnusedUiFeatures = ["WebUIOmniboxPopup", "WebUIOmniboxAimPopup", "WebUIOmniboxFullPopup"];

    private static readonly string[] FeatureFlags = [$"--disable-features={string.Join(',', [.. DriverDisabledFeatures, .. UnusedUiFeatures])}"];

    /// <summary>Chromium's switches as the engine launches it (without the instance marker); the benchmark's floor uses them too.</summary>
    public static IReadOnlyList<string> LaunchFlags(bool disableSandbox) =>
        [.. ContainerFlags, .. EgressFlags, .. MemoryFlags, .. FeatureFlags, .. disableSandbox ? ["--no-sandbox"] : Array.Empty<string>()];

    private readonly SemaphoreSlim _gate = new(1, 1);
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private bool _disposed;

    /// <summary>Passed to Chromium as an inert switch, so tests and operators can find this silo's processes.</summary>
    public string InstanceMarker { get; } = $"--anchor-instance={Guid.NewGuid():N}";

    /// <summary>Why the last launch failed, and when; null after a success.</summary>
    public (string Reason, DateTimeOffset At)? LastFailure { get; private set; }

    public bool IsConnected => _browser?.IsConnected == true;

    public bool IsRemote => !string.IsNullOrEmpty(options.Value.CdpEndpoint);

    /// <summary>
    /// A fresh, isolated context (its own cookies and storage) for one session whose client may also reach
    /// <paramref name="allowedHosts"/>, with its account at the egress proxy (null for a remote browser), starting from
    /// a Playwright storage state (JSON: cookies, localStorage) when given — a saved profile, or a checkpoint to restore.
    /// The caller disposes the account after closing the context.
    /// </summary>
    public Task<(IBrowserContext Context, EgressSession? Egress)> NewContextAsync(IReadOnlyList<string> allowedHosts, string? storageState = null, CancellationToken cancellationToken = default) =>
        circuit.ExecuteAsync(
            async ct =>
            {
                var browser = await GetBrowserAsync(ct);
                var session = IsRemote ? null : egress.Open(allowedHosts);
                try
                {
                    var context = await browser.NewContextAsync(new BrowserNewContextOptions
                    {
                        ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
                        AcceptDownloads = true, // Held by the session (Browser/Downloads), bounded by Browser:MaxDownloadBytes.
                        ServiceWorkers = ServiceWorkerPolicy.Block,
                        // "<-loopback>": loopback goes through the proxy too (Chromium bypasses proxies for it by default).
                        Proxy = session is null ? null : new Proxy { Server = egress.Address.AbsoluteUri.TrimEnd('/'), Username = session.UserName, Password = session.Password, Bypass = "<-loopback>" },
                        StorageState = storageState,
                    });
                    return (context, session);
                }
                catch (PlaywrightException ex)
                {
                    session?.Dispose();
                    throw new AnchorException(ErrorCodes.BrowserError, $"could not open a browser context ({FirstLine(ex.Message)}).");
                }
                catch
                {
                    session?.Dispose();
                    throw;
                }
            },
            cancellationToken);

    /// <summary>Launches (or connects) if needed; for the health check. Returns the failure reason, or null.</summary>
    public async Task<string?> ProbeAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await circuit.ExecuteAsync(async ct => await GetBrowserAsync(ct), cancellationToken);
            return null;
        }
        catch (AnchorException ex)
        {
            return ex.Message;
        }
    }

    private async Task<IBrowser> GetBrowserAsync(CancellationToken cancellationToken)
    {
        if (_browser is { IsConnected: true } ready)
        {
            return ready;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_browser is { IsConnected: true } raced)
            {
                return raced;
            }

            if (LastFailure is { } failure && time.GetUtcNow() - failure.At < RetryAfterFailure)
            {
                throw new AnchorException(ErrorCodes.BrowserError, failure.Reason);
            }

            if (_browser is not null)
            {
                LogRelaunch(logger);
                await CloseQuietlyAsync(_browser);
                _browser = null;
            }

            _browser = await LaunchAsync();
            LastFailure = null;
            return _browser;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<IBrowser> LaunchAsync()
    {
        var o = options.Value;
        try
        {
            _playwright ??= await Playwright.CreateAsync();
            if (IsRemote)
            {
                var remote = await _playwright.Chromium.ConnectOverCDPAsync(o.CdpEndpoint, new BrowserTypeConnectOverCDPOptions { Timeout = 30_000 });
                LogConnected(logger, remote.Version);
                return remote;
            }

            egress.Start();
            var args = new List<string>(LaunchFlags(o.DisableSandbox)) { InstanceMarker };
            var browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = o.ExecutablePath,
                Headless = o.Headless,
                Args = args,
                Timeout = 30_000,
                HandleSIGINT = false,
                HandleSIGTERM = false,
            });
            LogLaunched(logger, browser.Version, o.ExecutablePath);
            return browser;
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException or System.ComponentModel.Win32Exception or IOException)
        {
            var reason = IsRemote
                ? $"browser_error: cannot connect to the remote browser over CDP ({FirstLine(ex.Message)})."
                : $"browser_error: Chromium cannot launch from {o.ExecutablePath} ({FirstLine(ex.Message)}).";
            LastFailure = (reason, time.GetUtcNow());
            LogLaunchFailed(logger, reason);
            throw new AnchorException(ErrorCodes.BrowserError, reason);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_browser is not null)
            {
                await CloseQuietlyAsync(_browser);
            }

            _playwright?.Dispose();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task CloseQuietlyAsync(IBrowser browser)
    {
        try
        {
            await browser.CloseAsync();
        }
        catch (Exception ex) when (ex is PlaywrightException or ObjectDisposedException or TimeoutException)
        {
            LogCloseFailed(logger, ex);
        }
    }

    // Playwright messages run to many lines of call log; the first says what happened.
    internal static string FirstLine(string message) =>
        message.Split('\n', 2)[0].Trim().TrimEnd('.');

    [LoggerMessage(Level = LogLevel.Information, Message = "Chromium {Version} launched from {Path}")]
    private static partial void LogLaunched(ILogger logger, string version, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to remote browser {Version} over CDP")]
    private static partial void LogConnected(ILogger logger, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Browser disconnected; relaunching")]
    private static partial void LogRelaunch(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Browser unavailable: {Reason}")]
    private static partial void LogLaunchFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the browser failed")]
    private static partial void LogCloseFailed(ILogger logger, Exception exception);
}
