using System.Diagnostics;
using System.Globalization;
using Anchor.Orleans.Testing;
using Microsoft.Playwright;

namespace Anchor.Orleans.Api.Tests.Live;

/// <summary>
/// Not a test: the figures in bench/results/2026-12-03-live-view.md, measured on demand
/// (<c>dotnet test --filter LiveViewMeasurements -- xUnit.Explicit=on</c>). Nothing here asserts a time.
/// </summary>
public sealed class LiveViewMeasurements(LiveFixture fixture) : IClassFixture<LiveFixture>
{
    private const int Rounds = 30;

    [Fact(Explicit = true)]
    public async Task Measure_FrameLag_Fps_AndActionLatency_WithAndWithoutAViewer()
    {
        var (agent, sessionId) = await fixture.OpenSessionAsync();
        var without = await NavigationsAsync(agent, sessionId, viewer: null);

        var viewer = await fixture.OpenViewerAsync(await fixture.LinkAsync(sessionId));
        var framesBefore = await LiveFixture.FramesAsync(viewer);
        var clock = Stopwatch.StartNew();
        var with = await NavigationsAsync(agent, sessionId, viewer);
        var fps = (await LiveFixture.FramesAsync(viewer) - framesBefore) / clock.Elapsed.TotalSeconds;

        var line = string.Create(CultureInfo.InvariantCulture,
            $"LIVE-MEASURE action_p50_without_ms={P(without.Actions, 50):F0} action_p95_without_ms={P(without.Actions, 95):F0} action_p50_with_ms={P(with.Actions, 50):F0} action_p95_with_ms={P(with.Actions, 95):F0} lag_p50_ms={P(with.Lags, 50):F0} lag_p95_ms={P(with.Lags, 95):F0} fps_while_navigating={fps:F1}");
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

    private static double P(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
