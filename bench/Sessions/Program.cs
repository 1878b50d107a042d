// Browser sessions end to end on one silo: MCP client → HTTP → grain → Playwright → Chromium → a local page.
//   dotnet bench/Sessions/bin/Release/net10.0/Anchor.Orleans.Bench.Sessions.dll [sessions=8] [rounds=20]
// Measures session-create latency, per-action latency and throughput with every session busy at once, and the
// memory Chromium needs per open session (sum of the resident sets of the silo's Chromium processes), which is
// what sizes a pod's memory limit (deploy/k8s/base/deployment.yaml).
using System.Diagnostics;
using System.Globalization;
using Anchor.Orleans.Bench.Shared;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;

var sessions = int.Parse(args.ElementAtOrDefault(0) ?? "8", CultureInfo.InvariantCulture);
var rounds = int.Parse(args.ElementAtOrDefault(1) ?? "20", CultureInfo.InvariantCulture);

await using var site = new FixtureSite();
await site.InitializeAsync();
var settings = BrowserAppFixture.BaseSettings(
    ("Anchor:Sessions:MaxConcurrent", sessions.ToString(CultureInfo.InvariantCulture)),
    ("Anchor:Sessions:MaxPerClient", sessions.ToString(CultureInfo.InvariantCulture)),
    ("Anchor:RateLimit:MaxRequests", "1000000"),
    ("Logging:LogLevel:Default", "Warning"));
await using var host = await AnchorAppHost.StartAsync(settings);
var marker = host.Services.GetRequiredService<BrowserEngine>().InstanceMarker;
await using var agent = await McpTestClient.ConnectAsync(host, TestKeys.Agent);

// One session first: Chromium's own baseline.
var creates = new List<double>();
var ids = new List<string>();
async Task OpenAsync()
{
    var watch = Stopwatch.StartNew();
    var created = await agent.CallAsync("browser_session_create");
    creates.Add(watch.Elapsed.TotalMilliseconds);
    var id = created.Json().GetProperty("session_id").GetString()!;
    ids.Add(id);
    await agent.CallAsync("browser_navigate", new { url = site.Url("/list"), session_id = id });
}

await OpenAsync();
var oneSession = ProcessMemory.ChromiumPssMb(marker);
for (var i = 1; i < sessions; i++)
{
    await OpenAsync();
}

var allSessions = ProcessMemory.ChromiumPssMb(marker);

// Every session busy at once: navigate, snapshot, type, click, in rounds.
var latencies = new System.Collections.Concurrent.ConcurrentDictionary<string, System.Collections.Concurrent.ConcurrentBag<double>>();
var total = Stopwatch.StartNew();
await Task.WhenAll(ids.Select(async id =>
{
    for (var r = 0; r < rounds; r++)
    {
        await TimedAsync("browser_navigate", new { url = site.Url("/form"), session_id = id });
        await TimedAsync("browser_snapshot", new { session_id = id });
        await TimedAsync("browser_type", new { target = "#name", text = "bench", session_id = id });
        await TimedAsync("browser_click", new { target = "#greet", session_id = id });
    }
}));
var elapsed = total.Elapsed;

foreach (var id in ids)
{
    await agent.CallAsync("browser_session_close", new { session_id = id });
}

var actions = latencies.Values.Sum(b => b.Count);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sessions={sessions} rounds={rounds} cores={Environment.ProcessorCount}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"session_create first={creates[0]:F0}ms then p50={Stats.Percentile(creates.Skip(1), 50):F0}ms max={creates.Skip(1).DefaultIfEmpty().Max():F0}ms"));
foreach (var (tool, bag) in latencies.OrderBy(kv => kv.Key))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{tool} n={bag.Count} p50={Stats.Percentile(bag, 50):F1}ms p99={Stats.Percentile(bag, 99):F1}ms"));
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"actions/s={actions / elapsed.TotalSeconds:F1} with {sessions} sessions busy at once"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"chromium_pss one_session={oneSession:F0}MB all_sessions={allSessions:F0}MB per_extra_session={(allSessions - oneSession) / Math.Max(1, sessions - 1):F0}MB silo_rss={Environment.WorkingSet / 1048576.0:F0}MB"));
return;

async Task TimedAsync(string tool, object arguments)
{
    var watch = Stopwatch.StartNew();
    var result = await agent.CallAsync(tool, arguments);
    if (result.IsError == true)
    {
        throw new InvalidOperationException($"{tool} failed: {result.Text()}");
    }

    latencies.GetOrAdd(tool, _ => []).Add(watch.Elapsed.TotalMilliseconds);
}
