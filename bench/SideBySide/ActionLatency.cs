using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Anchor.Orleans.Bench.Shared;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Anchor.Orleans.Bench.Shared.Stats;

namespace Anchor.Orleans.Bench.SideBySide;

/// <summary>
/// Figure 1: navigate (which returns the page snapshot) and type/click by ref, on the same local form page, through
/// the same C# MCP client: us, then <c>@playwright/mcp</c>, then raw Playwright in this process (the floor), the
/// order rotated each round so none always runs first. Then a breakdown of our time per hop from the spans the
/// silo emits (HTTP server, MCP tool call, admission, Orleans grain calls, the Playwright action), recorded in
/// separate rounds so listening does not slow the compared figures.
/// </summary>
public static class ActionLatency
{
    private const string Ours = "Anchor.Orleans", Peer = "@playwright/mcp", Raw = "raw Playwright";

    public static async Task<string> RunAsync(int rounds)
    {
        await using var silo = await BenchSilo.StartAsync(4);
        await using var peer = await PeerMcp.StartAsync();
        await using var raw = await RawBrowser.StartAsync();
        var ours = await silo.ConnectAsync();
        var session = await Calls.OpenSessionAsync(ours);
        var context = await raw.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var url = silo.Site.Url("/form");

        var navigate = new Dictionary<string, List<double>> { [Ours] = [], [Peer] = [], [Raw] = [] };
        var typeClick = new Dictionary<string, List<double>> { [Ours] = [], [Peer] = [], [Raw] = [] };
        var runs = new Dictionary<string, Func<Task<(double Navigate, double TypeClick)>>>
        {
            [Ours] = () => ViaMcpAsync(ours, url, new { session_id = session }, answer => answer),
            [Peer] = () => ViaMcpAsync(peer.Client, url, new { }, peer.SnapshotOf),
            [Raw] = async () =>
            {
                var watch = Stopwatch.StartNew();
                await page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
                await RawBrowser.SnapshotAsync(page);
                var nav = watch.Elapsed.TotalMilliseconds;
                watch.Restart();
                await page.Locator("#name").FillAsync("bench");
                await RawBrowser.SnapshotAsync(page);
                await page.Locator("#greet").ClickAsync();
                await RawBrowser.SnapshotAsync(page);
                return (nav, watch.Elapsed.TotalMilliseconds);
            },
        };

        var order = runs.Keys.ToArray();
        // Two unrecorded rounds: connections, JIT, each browser's first page.
        for (var round = -2; round < rounds; round++)
        {
            for (var i = 0; i < order.Length; i++)
            {
                var who = order[(i + Math.Max(round, 0)) % order.Length];
                var (nav, act) = await runs[who]();
                if (round >= 0)
                {
                    navigate[who].Add(nav);
                    typeClick[who].Add(act);
                }
            }
        }

        var spans = await BreakdownAsync(() => ViaMcpAsync(ours, url, new { session_id = session }, answer => answer), Math.Max(5, rounds / 2));
        var floor = await FloorVariantsAsync(silo, raw, page, url, Math.Max(5, rounds / 2));
        await ours.CallAsync("browser_session_close", new { session_id = session });
        await ours.DisposeAsync();
        await context.CloseAsync();

        var text = new StringBuilder();
        text.AppendLine("## 1. Navigate+snapshot and type/click, side by side")
            .AppendLine()
            .AppendLine($"{rounds} rounds after 2 warm-up rounds, interleaved (order rotated each round), one session each, the fixture form page on loopback. Ours: one silo in this process, Development environment (in-memory storage), governance on (API key, admission with the rate limiter, budget reservation, emergency-stop switch). The peer: `@playwright/mcp` {peer.Version} (`--headless --isolated --no-sandbox`, same Chromium). Both through the same C# MCP client over Streamable HTTP. Raw: Playwright .NET in this process, warm browser, `GotoAsync` (DOMContentLoaded) + AI-mode `AriaSnapshotAsync`.")
            .AppendLine()
            .AppendLine("- navigate = `browser_navigate` {url}; both services take the page's aria snapshot after navigating. Ours returns it in the answer; this peer version writes it to a file in its output directory and answers with a link (read after the clock stops, for the refs). Raw = goto + snapshot.")
            .AppendLine("- type/click = `browser_type` {element, target: ref, text} then `browser_click` {element, target: ref} (refs from each service's own snapshot), both answers timed together; raw = fill + snapshot + click + snapshot.")
            .AppendLine()
            .AppendLine("| figure | ours p50 | ours p95 | peer p50 | peer p95 | raw p50 | raw p95 | ours ÷ peer (p50 / p95) | ours ÷ raw (p50 / p95) |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var (name, figures) in new[] { ("navigate+snapshot", navigate), ("type+click", typeClick) })
        {
            text.AppendLine($"| {name} | {F(Median(figures[Ours]))} ms | {F(P95(figures[Ours]))} ms | {F(Median(figures[Peer]))} ms | {F(P95(figures[Peer]))} ms | {F(Median(figures[Raw]))} ms | {F(P95(figures[Raw]))} ms | {Ratio(Median(figures[Ours]), Median(figures[Peer]))} / {Ratio(P95(figures[Ours]), P95(figures[Peer]))} | {Ratio(Median(figures[Ours]), Median(figures[Raw]))} / {Ratio(P95(figures[Ours]), P95(figures[Raw]))} |");
        }

        text.AppendLine()
            .AppendLine($"Targets (issue 12): navigate+snapshot ≤ 0.9 × peer at p50 — **{(Median(navigate[Ours]) <= 0.9 * Median(navigate[Peer]) ? "met" : "missed")}**; ≤ 1.2 × raw at p50 — **{(Median(navigate[Ours]) <= 1.2 * Median(navigate[Raw]) ? "met" : "missed")}**.")
            .AppendLine()
            .Append(spans)
            .AppendLine()
            .Append(floor);
        return text.ToString();
    }

    private static async Task<(double Navigate, double TypeClick)> ViaMcpAsync(ModelContextProtocol.Client.McpClient client, string url, object session, Func<string, string> snapshotOf)
    {
        var (nav, answer) = await Calls.TimedAsync(client, "browser_navigate", With(session, new() { ["url"] = url }));
        var snapshot = snapshotOf(answer);
        var (typed, _) = await Calls.TimedAsync(client, "browser_type", With(session, new() { ["element"] = "Name", ["target"] = Calls.RefOf(snapshot, "textbox", "Name"), ["text"] = "bench" }));
        var (clicked, _) = await Calls.TimedAsync(client, "browser_click", With(session, new() { ["element"] = "Greet", ["target"] = Calls.RefOf(snapshot, "button", "Greet") }));
        return (nav, typed + clicked);
    }

    /// <summary>
    /// What our browser action does beyond the floor's goto + snapshot, priced one piece at a time in raw Playwright
    /// (interleaved): Chromium launched with the product's switches, a context of our engine (its traffic through the
    /// egress proxy), every request of the context through a route handler (our network guard checks each request
    /// in .NET), the navigation fetched in .NET and fulfilled through the driver, and the page title.
    /// </summary>
    private static async Task<string> FloorVariantsAsync(BenchSilo silo, RawBrowser raw, IPage plain, string url, int rounds)
    {
        // Without the proxy, Chromium must resolve names itself: every product switch but the resolver rule.
        await using var switched = await RawBrowser.StartAsync(RawChromium.ServiceSwitches);
        var switchedPage = await (await switched.Browser.NewContextAsync()).NewPageAsync();
        var (engineContext, egress) = await silo.Host.Services.GetRequiredService<BrowserEngine>().NewContextAsync([]);
        var proxied = await engineContext.NewPageAsync();
        var routedContext = await raw.Browser.NewContextAsync();
        await routedContext.RouteAsync("**/*", route => route.ContinueAsync());
        var routed = await routedContext.NewPageAsync();
        using var http = new HttpClient();
        var fetchedContext = await raw.Browser.NewContextAsync();
        await fetchedContext.RouteAsync("**/*", async route =>
        {
            if (!route.Request.IsNavigationRequest)
            {
                await route.ContinueAsync();
                return;
            }

            // As our network guard does: read the context's cookies, fetch in .NET, hand the body to the browser.
            await fetchedContext.CookiesAsync([route.Request.Url]);
            using var response = await http.GetAsync(route.Request.Url);
            await route.FulfillAsync(new RouteFulfillOptions
            {
                Status = (int)response.StatusCode,
                Headers = response.Content.Headers.Select(h => KeyValuePair.Create(h.Key, string.Join(", ", h.Value))),
                BodyBytes = await response.Content.ReadAsByteArrayAsync(),
            });
        });
        var fetched = await fetchedContext.NewPageAsync();
        async Task GotoAndSnapshotAsync(IPage page)
        {
            await page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
            await RawBrowser.SnapshotAsync(page);
        }

        var variants = new (string Name, Func<Task> Run)[]
        {
            ("goto + snapshot (the floor)", () => GotoAndSnapshotAsync(plain)),
            ("goto + snapshot, Chromium launched with the product's switches (but its resolver rule, which needs the proxy)", () => GotoAndSnapshotAsync(switchedPage)),
            ("goto + snapshot in a context of our engine (product switches, traffic through the egress proxy)", () => GotoAndSnapshotAsync(proxied)),
            ("+ every request through a route handler that continues it", () => GotoAndSnapshotAsync(routed)),
            ("+ the navigation fetched in .NET (cookies read, HttpClient, FulfillAsync), as our network guard did until navigations went through the egress proxy", () => GotoAndSnapshotAsync(fetched)),
            ("+ that, then the page title (one more driver round trip)", async () => { await GotoAndSnapshotAsync(fetched); await fetched.TitleAsync(); }),
        };
        var times = variants.ToDictionary(v => v.Name, _ => new List<double>());
        for (var round = -1; round < rounds; round++)
        {
            foreach (var (name, run) in variants)
            {
                var watch = Stopwatch.StartNew();
                await run();
                if (round >= 0)
                {
                    times[name].Add(watch.Elapsed.TotalMilliseconds);
                }
            }
        }

        await routedContext.CloseAsync();
        await fetchedContext.CloseAsync();
        await engineContext.CloseAsync();
        egress?.Dispose();
        var floor = Median(times[variants[0].Name]);
        var text = new StringBuilder()
            .AppendLine("### What our browser action adds to the floor, priced in raw Playwright")
            .AppendLine()
            .AppendLine($"{rounds} more rounds, interleaved, in this process's warm browser: the pieces our navigate runs beyond goto + snapshot.")
            .AppendLine()
            .AppendLine("| raw Playwright variant | p50 | p95 | ÷ floor (p50) |")
            .AppendLine("|---|---|---|---|");
        foreach (var (name, _) in variants)
        {
            text.AppendLine($"| {name} | {F(Median(times[name]))} ms | {F(P95(times[name]))} ms | {Ratio(Median(times[name]), floor)} |");
        }

        return text.ToString();
    }

    /// <summary><paramref name="arguments"/> with the properties of <paramref name="session"/> (<c>session_id</c> for ours, none for the peer).</summary>
    internal static Dictionary<string, object?> With(object session, Dictionary<string, object?> arguments)
    {
        foreach (var property in session.GetType().GetProperties())
        {
            arguments[property.Name] = property.GetValue(session);
        }

        return arguments;
    }

    /// <summary>
    /// Median duration of each span our process records during <paramref name="rounds"/> more of our rounds, for the
    /// navigate call: the client's HTTP request, the server's HTTP request, the tool call, admission, grain calls,
    /// the Playwright action.
    /// </summary>
    private static async Task<string> BreakdownAsync(Func<Task<(double, double)>> round, int rounds)
    {
        var durations = new ConcurrentDictionary<string, ConcurrentBag<double>>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => durations.GetOrAdd($"{a.Source.Name} · {a.DisplayName}", _ => []).Add(a.Duration.TotalMilliseconds),
        };
        ActivitySource.AddActivityListener(listener);
        var totals = new List<double>();
        for (var i = 0; i < rounds; i++)
        {
            totals.Add((await round()).Item1);
        }

        listener.Dispose();
        var text = new StringBuilder()
            .AppendLine("### Where our time goes (spans recorded in this process)")
            .AppendLine()
            .AppendLine($"{rounds} more rounds of ours with an in-process `ActivityListener` on every source (listening adds a little; these rounds are not in the table above). Client-measured navigate in these rounds: p50 {F(Median(totals))} ms. Each span's median over all its occurrences in the rounds (navigate, type and click calls alike; a span name carries the tool where the product puts it there):")
            .AppendLine()
            .AppendLine("| span (source · name) | count | p50 | p95 |")
            .AppendLine("|---|---|---|---|");
        foreach (var (name, bag) in durations.OrderByDescending(kv => Median(kv.Value)))
        {
            text.AppendLine($"| {name} | {bag.Count} | {F(Median(bag), 2)} ms | {F(P95(bag), 2)} ms |");
        }

        return text.ToString();
    }
}
