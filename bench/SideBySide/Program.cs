// Side-by-side benchmarks (issue 12), one figure per run, each printing a Markdown section for the results file.
// scripts/bench.sh runs them all; by hand:
//   dotnet bench/SideBySide/bin/Release/net10.0/Anchor.Orleans.Bench.SideBySide.dll <figure> [arguments]
//   p1 [rounds=30]                       navigate+snapshot and type/click: us, @playwright/mcp, raw Playwright
//   open [rounds=30]                     session open to a usable page: us, raw NewContext+NewPage
//   concurrency [levels=1,10,25,50] [rounds=5]   p95 action latency and memory per session at N sessions
//   soak [seconds=600] [sessions=4]      steady load, memory slope
//   estop [rounds=5] [sessions=2]        emergency stop on a 2-silo cluster (silo processes, Redis)
//   checkpoints [rounds=20]              what session checkpoints cost: their duration and size, Redis and memory
//   density [levels=1,10,25,50] [rounds=5]   N agents: one silo vs N @playwright/mcp, actions/s, p95, PSS, CPU
//   context-memory [contexts=10] [navigations=16]   Chromium MB per context with candidate switches (raw Playwright)
//   placement [busy=1] [sessions=6] [threshold=60]   3 silos, one with CPU-heavy pages: where new sessions open
using System.Globalization;
using Anchor.Orleans.Bench.SideBySide;

var figure = args.ElementAtOrDefault(0) ?? "";
int Arg(int index, int fallback) => int.Parse(args.ElementAtOrDefault(index) ?? fallback.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
var section = figure switch
{
    "p1" => await ActionLatency.RunAsync(Arg(1, 30)),
    "open" => await SessionOpen.RunAsync(Arg(1, 30)),
    "concurrency" => await Concurrency.RunAsync([.. (args.ElementAtOrDefault(1) ?? "1,10,25,50").Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture))], Arg(2, 5)),
    "soak" => await Soak.RunAsync(Arg(1, 600), Arg(2, 4)),
    "estop" => await EmergencyStopDrill.RunAsync(Arg(1, 5), Arg(2, 2)),
    "checkpoints" => await Checkpoints.RunAsync(Arg(1, 20)),
    "context-memory" => await ContextMemory.RunAsync(Arg(1, 10), Arg(2, 16)),
    "density" => await Density.RunAsync([.. (args.ElementAtOrDefault(1) ?? "1,10,25,50").Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture))], Arg(2, 5)),
    "placement" => await Placement.RunAsync(Arg(1, 1), Arg(2, 6), Arg(3, 60)),
    _ => throw new ArgumentException($"unknown figure '{figure}' (p1, open, concurrency, soak, estop, checkpoints, density, context-memory, placement)"),
};
Console.WriteLine(section);
