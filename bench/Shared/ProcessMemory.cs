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
