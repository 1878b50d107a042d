using System.Globalization;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Bench.Shared;

/// <summary>Memory of processes read from /proc: resident set of one process, proportional set of a Chromium tree.</summary>
public static class ProcessMemory
{
    /// <summary>
    /// The silo's Chromium (browser, renderers, GPU, utility processes): the sum of their proportional set sizes
    /// (PSS, /proc/&lt;pid&gt;/smaps_rollup), which shares pages common to several processes among them instead of
    /// counting them once per process as resident-set sums would.
    /// </summary>
    public static double ChromiumPssMb(string marker) =>
        ChromiumProcesses.TreeOf(marker).Sum(pid => ReadKb($"/proc/{pid}/smaps_rollup", "Pss:")) / 1024.0;

    /// <summary>The summed proportional set sizes of <paramref name="pids"/>.</summary>
    public static double PssMb(IEnumerable<int> pids) => pids.Sum(pid => ReadKb($"/proc/{pid}/smaps_rollup", "Pss:")) / 1024.0;

    /// <summary>
    /// The summed PSS of <paramref name="pids"/> by kind of process: this benchmark's own (.NET) process, node processes
    /// (a Playwright driver, a peer's MCP server), and Chromium's by its <c>--type</c> (the browser process has none).
    /// </summary>
    public static IReadOnlyDictionary<string, double> PssMbByKind(IEnumerable<int> pids) =>
        pids.GroupBy(Kind).ToDictionary(g => g.Key, g => PssMb(g), StringComparer.Ordinal);

    /// <summary>CPU time (ms) of <paramref name="pids"/> so far, by the same kinds as <see cref="PssMbByKind"/>.</summary>
    public static IReadOnlyDictionary<string, double> CpuMsByKind(IEnumerable<int> pids) =>
        pids.GroupBy(Kind).ToDictionary(g => g.Key, g => ChromiumProcesses.CpuMs(g), StringComparer.Ordinal);

    private static string Kind(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return "this process (.NET)";
        }

        var args = ChromiumProcesses.CommandLine(pid);
        if (args.Count == 0)
        {
            return "ended";
        }

        if (Path.GetFileName(args[0]) == "node")
        {
            return "node";
        }

        return "chromium " + (ChromiumProcesses.TypeOf(pid) ?? "browser");
    }

    /// <summary>Resident set (VmRSS) of one process.</summary>
    public static double ResidentMb(int pid) => ReadKb($"/proc/{pid}/status", "VmRSS:") / 1024.0;

    private static long ReadKb(string file, string field)
    {
        try
        {
            var line = File.ReadLines(file).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            // The process ended while we read it.
            return 0;
        }
    }
}
