using System.Diagnostics;
using System.Globalization;
using Anchor.Orleans.Testing;
using Microsoft.Playwright;

namespace Anchor.Orleans.Api.Tests.Live;

/// <summary>
/// Not a test: the figures in bench/results/2026-12-03-live-view.md, measured on demand
/// (<c>dotnet test --filter LiveViewMeasurements -- xUnit.Explicit=on</c>). Nothing here asserts a time. CPU is the
/// test process (the silo, and the viewer's Playwright client, which idles) and every Chromium process (the silo's
/// browser and the viewer's own, which decodes and shows the frames).
/// </summary>
public sealed class LiveViewMeasurements(LiveFixture fixture) : IClassFixture<LiveFixture>
{
    private const int Rounds = 30;

    [Fact(Explicit = true)]
    public async Task Measure_FrameLag_Fps_AndActionLatency_WithAndWithoutAViewer()
    {
        var (agent, sessionId) = await fixture.OpenSessionAsync();
        var cpu = Cpu.Now();
        var without = await NavigationsAsync(agent, sessionId, viewer: null);
        var cpuWithout = Cpu.Now() - cpu;

        var viewer = await fixture.OpenViewerAsync(await fixture.LinkAsync(sessionId));
        var framesBefore = await LiveFixture.FramesAsync(viewer);
        var clock = Stopwatch.StartNew();
        cpu = Cpu.Now();
        var with = await NavigationsAsync(agent, sessionId, viewer);
        var cpuWith = Cpu.Now() - cpu;
        var fps = (await LiveFixture.FramesAsync(viewer) - framesBefore) / clock.Elapsed.TotalSeconds;
        await viewer.Context.CloseAsync();

        // The silo's side alone: a viewer that takes the frames off the socket without decoding or showing them (a
        // person's browser runs on their machine, not on the silo's two cores).
        var socketViewer = await SocketViewer.OpenAsync(await fixture.LinkAsync(sessionId));
        cpu = Cpu.Now();
        var withSocket = await NavigationsAsync(agent, sessionId, viewer: null);
        var cpuWithSocket = Cpu.Now() - cpu;
        var socketMessages = await socketViewer.CloseAsync();

        var inputs = await InputToFrameAsync(agent, sessionId);

        var line = string.Create(CultureInfo.InvariantCulture,
            $"LIVE-MEASURE action_p50_without_ms={P(without.Actions, 50):F0} action_p95_without_ms={P(without.Actions, 95):F0} action_p50_with_ms={P(with.Actions, 50):F0} action_p95_with_ms={P(with.Actions, 95):F0} lag_p50_ms={P(with.Lags, 50):F0} lag_p95_ms={P(with.Lags, 95):F0} fps_while_navigating={fps:F1} input_to_frame_p50_ms={P(inputs, 50):F0} input_to_frame_p95_ms={P(inputs, 95):F0} "
            + $"action_p50_with_socket_viewer_ms={P(withSocket.Actions, 50):F0} action_p95_with_socket_viewer_ms={P(withSocket.Actions, 95):F0} socket_viewer_messages={socketMessages} "
            + $"cpu_ms_per_navigation_without={cpuWithout.Silo / Rounds:F0}+{cpuWithout.Chromium / Rounds:F0} cpu_ms_per_navigation_with={cpuWith.Silo / Rounds:F0}+{cpuWith.Chromium / Rounds:F0} cpu_ms_per_navigation_with_socket_viewer={cpuWithSocket.Silo / Rounds:F0}+{cpuWithSocket.Chromium / Rounds:F0} (silo+chromium)");
        TestContext.Current.AddAttachment("live-measure", line);
        await File.AppendAllTextAsync(Path.Combine(Path.GetTempPath(), "anchor-live-measure.txt"), line + "\n", TestContext.Current.CancellationToken);
    }

    /// <summary>Alternates /a and /b: each navigation's answer time and, with a viewer, from its answer to the new title shown.</summary>
    private async Task<(List<double> Actions, List<double> Lags)> NavigationsAsync(ModelContextProtocol.Client.McpClient agent, string sessionId, IPage? viewer)
    {
        var actions = new List<double>();
        var lags = new List<double>();
        for (var i = 0; i < Rounds; i++)
        {
            var (path, title) = i % 2 == 0 ? ("/a", "Page A") : ("/b", "Page B");
            var watch = Stopwatch.StartNew();
            await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url(path), session_id = sessionId });
            actions.Add(watch.Elapsed.TotalMilliseconds);
            if (viewer is not null)
            {
                var shown = Stopwatch.StartNew();
                await Assertions.Expect(viewer.Locator("#title")).ToHaveTextAsync(title, new() { Timeout = 10_000 });
                lags.Add(shown.Elapsed.TotalMilliseconds);
            }
        }

        return (actions, lags);
    }

    /// <summary>
    /// In control of <c>/keys</c> (a focused field without a caret): a key typed on the live page, until the viewer
    /// shows the next frame. The page is left still before each key, so the frame that follows is the key's.
    /// </summary>
    private async Task<List<double>> InputToFrameAsync(ModelContextProtocol.Client.McpClient agent, string sessionId)
    {
        await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/keys"), session_id = sessionId });
        var viewer = await fixture.OpenViewerAsync(await fixture.LinkAsync(sessionId, "control"), "control");
        await viewer.Locator("[data-live-frame]").FocusAsync();
        var latencies = new List<double>();
        for (var i = 0; i < Rounds; i++)
        {
            var frames = await StillAsync(viewer);
            var watch = Stopwatch.StartNew();
            await viewer.Keyboard.PressAsync("x");
            await viewer.WaitForFunctionAsync($"() => Number(document.querySelector('[data-live-frame]').dataset.frames) > {frames}", null, new() { Timeout = 10_000, PollingInterval = 5 });
            latencies.Add(watch.Elapsed.TotalMilliseconds);
        }

        await viewer.Locator("#done").ClickAsync();
        await viewer.Context.CloseAsync();
        return latencies;
    }

    /// <summary>Waits (10 s at most) until no frame came for 300 ms; returns the frame count.</summary>
    private static async Task<int> StillAsync(IPage viewer)
    {
        var deadline = Stopwatch.StartNew();
        var count = await LiveFixture.FramesAsync(viewer);
        var still = Stopwatch.StartNew();
        while (still.ElapsedMilliseconds < 300 && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
            var now = await LiveFixture.FramesAsync(viewer);
            if (now != count)
            {
                count = now;
                still.Restart();
            }
        }

        return count;
    }

    private static double P(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    /// <summary>A viewer without a browser: opens the link for its cookie, then reads the live socket and counts its messages.</summary>
    private sealed class SocketViewer(System.Net.WebSockets.ClientWebSocket socket, Task<int> reading, CancellationTokenSource stop)
    {
        public static async Task<SocketViewer> OpenAsync(string link)
        {
            var cookies = new System.Net.CookieContainer();
            using (var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies }))
            {
                (await http.GetAsync(new Uri(link), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
            }

            var url = new Uri(link);
            var socket = new System.Net.WebSockets.ClientWebSocket();
            socket.Options.SetRequestHeader("Origin", url.GetLeftPart(UriPartial.Authority));
            socket.Options.Cookies = cookies;
            await socket.ConnectAsync(new Uri("ws" + link[4..].TrimEnd('/') + "/ws"), TestContext.Current.CancellationToken);
            var stop = new CancellationTokenSource();
            return new SocketViewer(socket, ReadAsync(socket, stop.Token), stop);
        }

        public async Task<int> CloseAsync()
        {
            await stop.CancelAsync();
            var messages = await reading;
            socket.Abort();
            socket.Dispose();
            stop.Dispose();
            return messages;
        }

        private static async Task<int> ReadAsync(System.Net.WebSockets.ClientWebSocket socket, CancellationToken cancellationToken)
        {
            var buffer = new byte[1 << 20];
            var messages = 0;
            try
            {
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer, cancellationToken);
                    if (result.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
                    {
                        return messages;
                    }

                    messages += result.EndOfMessage ? 1 : 0;
                }
            }
            catch (OperationCanceledException)
            {
                return messages;
            }
        }
    }

    /// <summary>CPU milliseconds used so far by this process and by every Chromium process.</summary>
    private readonly record struct Cpu(double Silo, double Chromium)
    {
        public static Cpu Now()
        {
            using var self = Process.GetCurrentProcess();
            return new(self.TotalProcessorTime.TotalMilliseconds, ChromiumProcesses.CpuMs(ChromiumProcesses.Named("chromium")));
        }

        public static Cpu operator -(Cpu a, Cpu b) => new(a.Silo - b.Silo, a.Chromium - b.Chromium);
    }
}
