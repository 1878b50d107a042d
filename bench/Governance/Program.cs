// Durable governance throughput on one silo with a real redis-server (started here on a free loopback port).
//   dotnet run -c Release --project bench/Governance -- [reserve|admit] [seconds=10] [concurrency=64] [prefill=0]
// prefill: settle this many sessions in today's and this month's ledgers before measuring, so the period already
//          holds them (1,000 vs 100,000 shows whether a write's cost grows with the period).
// reserve: a session reserves and then settles (4 durable ledger changes: day and month, each acknowledged only
//          after Redis has it). Reported per reservation (reserve + settle pair) and per durable change.
// admit:   IToolAdmission.AdmitAsync: local switch view, a durable rate-limiter write (one client per caller, a 1 s
//          window no caller can fill), room checks on two ledgers (this silo's LedgerRoomView).
using System.Diagnostics;
using System.Globalization;
using Anchor.Orleans.Grains.Admission;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Tools;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;

var mode = args.ElementAtOrDefault(0) ?? "reserve";
var seconds = int.Parse(args.ElementAtOrDefault(1) ?? "10", CultureInfo.InvariantCulture);
var concurrency = int.Parse(args.ElementAtOrDefault(2) ?? "64", CultureInfo.InvariantCulture);
var prefill = int.Parse(args.ElementAtOrDefault(3) ?? "0", CultureInfo.InvariantCulture);
// Long enough for tiered JIT to reach its optimized code; a 2 s warm-up measured tier-0 code and made a period
// pre-filled with 100,000 sessions (a long warm-up in itself) look faster than one with 1,000.
var warmup = int.Parse(Environment.GetEnvironmentVariable("WARMUP_SECONDS") ?? "10", CultureInfo.InvariantCulture);

var redis = new RedisServer();
await redis.InitializeAsync();
var settings = TestKeys.Settings();
foreach (var (key, value) in AnchorAppHost.RedisSettings(redis, "bench"))
{
    settings[key] = value;
}

settings["Anchor:Budget:DailyLimitUsd"] = "10000000";
settings["Anchor:Budget:MonthlyLimitUsd"] = "100000000";
settings["Anchor:Budget:EmergencyShutdownUsd"] = "100000000";
settings["Logging:LogLevel:Default"] = "Warning";
await using var host = await AnchorAppHost.StartAsync(settings, "Production");
var budget = host.Services.GetRequiredService<ISessionBudget>();
var admission = host.Services.GetRequiredService<IToolAdmission>();
var policies = host.Services.GetRequiredService<ClientPolicies>();

Func<int, long, Task> operation = mode switch
{
    "reserve" => async (worker, n) =>
    {
        var session = $"w{worker}-{n}";
        var client = $"client-{worker % 16}";
        var openedAt = DateTimeOffset.UtcNow;
        await budget.ReserveAsync(session, client, openedAt, 0.01m);
        await budget.SettleAsync(session, client, openedAt, 0.005m);
    },
    "admit" => (worker, _) => admission.AdmitAsync(policies.For($"client-{worker}") with { MaxRequests = 1_000_000, WindowSeconds = 1 }, new ToolFacts("browser_snapshot")),
    _ => throw new ArgumentException($"unknown mode '{mode}' (reserve or admit)"),
};

if (prefill > 0)
{
    var filling = Stopwatch.StartNew();
    var next = -1;
    await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
    {
        for (var i = Interlocked.Increment(ref next); i < prefill; i = Interlocked.Increment(ref next))
        {
            var openedAt = DateTimeOffset.UtcNow;
            await budget.ReserveAsync($"prefill-{i}", $"client-{i % 16}", openedAt, 0.01m);
            await budget.SettleAsync($"prefill-{i}", $"client-{i % 16}", openedAt, 0.005m);
        }
    }));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"prefilled {prefill} settled sessions in {filling.Elapsed.TotalSeconds:F1} s"));
}

// Warm up (activations, connections, JIT), then measure.
await RunAsync(TimeSpan.FromSeconds(warmup), record: false);
var (count, latencies) = await RunAsync(TimeSpan.FromSeconds(seconds), record: true);
latencies.Sort();
double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"mode={mode} concurrency={concurrency} prefill={prefill} warmup={warmup}s seconds={seconds} cores={Environment.ProcessorCount} ops={count} ops/s={count / (double)seconds:F0} p50={P(0.50):F2}ms p95={P(0.95):F2}ms p99={P(0.99):F2}ms p99.9={P(0.999):F2}ms max={latencies[^1]:F2}ms"));
await host.DisposeAsync();
await redis.DisposeAsync();

async Task<(long Count, List<double> Latencies)> RunAsync(TimeSpan duration, bool record)
{
    var stop = Stopwatch.StartNew();
    var all = new List<double>[concurrency];
    long total = 0;
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
    {
        var mine = all[worker] = new List<double>(capacity: 100_000);
        long n = record ? 1_000_000_000L * (worker + 1) : worker * 1_000_000L;
        while (stop.Elapsed < duration)
        {
            var started = Stopwatch.GetTimestamp();
            await operation(worker, n++);
            if (record)
            {
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        Interlocked.Add(ref total, mine.Count);
    }));
    return (total, [.. all.SelectMany(l => l)]);
}
