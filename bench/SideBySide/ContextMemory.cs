using System.Diagnostics;
using System.Text;
using Anchor.Orleans.Bench.Shared;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Testing;
using Microsoft.Playwright;
using static Anchor.Orleans.Bench.Shared.Stats;

namespace Anchor.Orleans.Bench.SideBySide;

/// <summary>
/// Figure 9 (issue 25): what one context costs in Chromium with the product's switches, and with candidate switches
/// that might trade nothing in isolation. Raw Playwright in this process (no service, so only Chromium is measured):
/// for each variant a fresh Chromium, N contexts each opening one tab and navigating through the fixture pages, then
/// Chromium's PSS minus its PSS with no context, over N; and each navigation's time (a switch that saves memory by
/// making pages slower is not free).
/// </summary>
public static class ContextMemory
{
    private static readonly string[] Pages = ["/form", "/list", "/a", "/b", "/later", "/xy", "/keys", "/drag"];

    public static async Task<string> RunAsync(int contexts, int navigations)
    {
        await using var site = new FixtureSite();
        await site.InitializeAsync();
        var product = RawChromium.ServiceSwitches;
        var variants = new (string Name, string[] Extra)[]
        {
            ("product switches", []),
            ("- omnibox popups off (Chromium's default browser UI)", [$"--disable-features={string.Join(',', BrowserEngine.DriverDisabledFeatures)}"]),
            ("- --js-flags=--no-compilation-cache (V8's cache on)", ["--js-flags=--compilation-cache"]),
            ("+ BackForwardCache disabled (with the product's --disable-features)", [$"--disable-features={string.Join(',', [.. BrowserEngine.DriverDisabledFeatures, .. BrowserEngine.UnusedUiFeatures, "BackForwardCache"])}"]),
            ("+ --disk-cache-size=1 --media-cache-size=1", ["--disk-cache-size=1", "--media-cache-size=1"]),
            ("+ --renderer-process-limit=2", ["--renderer-process-limit=2"]),
            ("+ --in-process-gpu", ["--in-process-gpu"]),
            ("+ --enable-low-end-device-mode", ["--enable-low-end-device-mode"]),
            ("+ V8 semi-space 1 MB (--js-flags=--no-compilation-cache --max-semi-space-size=1)", ["--js-flags=--no-compilation-cache --max-semi-space-size=1"]),
        };

        var text = new StringBuilder()
            .AppendLine("## 9. Memory per context in Chromium, by switches")
            .AppendLine()
            .AppendLine($"Raw Playwright in this process, a fresh Chromium per variant ({string.Join(" ", product)} plus the variant's), {contexts} contexts each with one tab navigating {navigations} times through the fixture pages ({string.Join(", ", Pages)}), all contexts open at the end. Chromium's summed PSS with the contexts open minus its PSS right after launch, over {contexts}; each navigation (`GotoAsync` to load, then the AI-mode aria snapshot the service takes) timed, and Chromium's CPU per navigation. Duplicate `--js-flags` and `--disable-features` switches: the last one wins.")
            .AppendLine()
            .AppendLine("| variant | MB per context | Chromium PSS idle → with contexts | processes | navigation+snapshot p50 | p95 | Chromium CPU per navigation |")
            .AppendLine("|---|---|---|---|---|---|---|");
        foreach (var (name, extra) in variants)
        {
            var marker = $"--anchor-bench={Guid.NewGuid():N}";
            await using var raw = await RawBrowser.StartAsync([.. product, .. extra, marker]);
            var idle = ProcessMemory.ChromiumPssMb(marker);
            var cpu = ChromiumProcesses.CpuMs(ChromiumProcesses.TreeOf(marker));
            var times = new List<double>();
            var open = new List<IBrowserContext>();
            for (var c = 0; c < contexts; c++)
            {
                var context = await raw.Browser.NewContextAsync();
                open.Add(context);
                var page = await context.NewPageAsync();
                for (var n = 0; n < navigations; n++)
                {
                    var watch = Stopwatch.StartNew();
                    await page.GotoAsync(site.Url(Pages[n % Pages.Length]));
                    await RawBrowser.SnapshotAsync(page);
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }
            }

            var loaded = ProcessMemory.ChromiumPssMb(marker);
            var tree = ChromiumProcesses.TreeOf(marker);
            var cpuPerNavigation = (ChromiumProcesses.CpuMs(tree) - cpu) / times.Count; // Processes that ended in between are not counted.
            text.AppendLine($"| {name} | {F((loaded - idle) / contexts)} | {F(idle, 0)} → {F(loaded, 0)} MB | {tree.Count} | {F(Median(times))} ms | {F(P95(times))} ms | {F(cpuPerNavigation, 0)} ms |");
            foreach (var context in open)
            {
                await context.CloseAsync();
            }
        }

        return text.ToString();
    }
}
