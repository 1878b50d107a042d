using System.Globalization;

namespace Anchor.Orleans.Grains.Sessions.Load;

/// <summary>
/// One reading of this silo's process tree: CPU over the interval since the previous reading and memory now, each as a
/// share (0..1) of what the silo may use.
/// </summary>
/// <param name="CpuRatio">CPU time of the tree over the interval ÷ (interval × <paramref name="Cores"/>).</param>
/// <param name="MemoryRatio"><paramref name="MemoryBytes"/> ÷ <paramref name="MemoryLimitBytes"/>.</param>
/// <param name="Cores">The cgroup CPU quota in cores when set, else the processor count.</param>
/// <param name="MemoryBytes">
/// Under a cgroup memory limit, the cgroup's working set (memory.current − inactive_file, what the kubelet and the OOM
/// killer go by); else the tree's PSS (else RSS) summed.
/// </param>
/// <param name="MemoryLimitBytes">The cgroup memory limit when set, else the machine's MemTotal.</param>
/// <param name="Processes">Processes in the tree (the silo, its Chromium and renderers, the driver).</param>
public sealed record SiloLoadFigures(double CpuRatio, double MemoryRatio, double Cores, long MemoryBytes, long MemoryLimitBytes, int Processes);

/// <summary>
/// Reads the silo's load from /proc and cgroup v2 (<see cref="ISystemFiles"/>): the tree is the silo process and every
/// process below it, so several silos on one machine are each measured on their own, and in a pod the tree is the pod.
/// CPU is the change of utime+stime between two readings over the change of /proc/uptime (the kernel's own clock, so a
/// fake <see cref="TimeProvider"/> in tests cannot distort a rate of real ticks). Not thread-safe: one caller samples.
/// </summary>
public sealed class SiloLoadSampler(ISystemFiles files)
{
    /// <summary>USER_HZ: the unit of utime and stime in /proc/&lt;pid&gt;/stat, 100 on every Linux architecture .NET runs on.</summary>
    public const int ClockTicksPerSecond = 100;

    /// <summary>
    /// How often the tree's PSS is read when no cgroup memory limit applies. smaps_rollup makes the kernel walk each
    /// process's page tables: 98 ms of CPU for a silo's 34 processes at 25 sessions here (stat: 0.6 ms), every 2 s
    /// 2.5 % of a 2-core machine. In between, the RSS the stat lines carry stands in, scaled by the last PSS/RSS ratio.
    /// </summary>
    public const double PssIntervalSeconds = 30;

    private long? _lastTicks;
    private double _lastUptime;
    private double? _pssReadAt;
    private double _pssPerRss = 1;

    /// <summary>
    /// Reads the tree now. Null on the first call (a CPU rate needs two readings) and where there is no /proc (then the
    /// silo publishes no load and placement treats it as unknown).
    /// </summary>
    public SiloLoadFigures? Sample()
    {
        if (ReadUptime() is not { } uptime)
        {
            return null;
        }

        var tree = ProcessTree();
        var ticks = tree.Values.Sum(stat => stat.Ticks);
        var limit = MemoryLimitBytes();
        var memory = limit is not null && WorkingSetBytes() is { } workingSet ? workingSet : TreeMemory(tree, uptime);

        var lastTicks = _lastTicks;
        var elapsed = uptime - _lastUptime;
        _lastTicks = ticks;
        _lastUptime = uptime;
        if (lastTicks is not { } before || elapsed <= 0 || tree.Count == 0)
        {
            return null;
        }

        var cores = CpuQuotaCores() ?? files.ProcessorCount;
        limit ??= MemTotalBytes() ?? 0;

        // A process of the tree that exited since the last reading takes its ticks with it: the delta can dip below 0.
        var cpu = Math.Clamp((ticks - before) / (double)ClockTicksPerSecond / elapsed / cores, 0, 1);
        var share = limit > 0 ? Math.Clamp(memory / (double)limit, 0, 1) : 0;
        return new SiloLoadFigures(cpu, share, cores, memory, limit.Value, tree.Count);
    }

    /// <summary>This process and all its descendants, by parent id, with their stat figures.</summary>
    private Dictionary<int, ProcStat> ProcessTree()
    {
        var stats = new Dictionary<int, ProcStat>();
        foreach (var id in files.ProcessIds())
        {
            if (ParseStat(files.Read($"/proc/{id}/stat")) is { } stat)
            {
                stats[id] = stat;
            }
        }

        var children = stats.ToLookup(s => s.Value.ParentId, s => s.Key);
        var tree = new Dictionary<int, ProcStat>();
        var pending = new Stack<int>();
        pending.Push(files.CurrentProcessId);
        while (pending.TryPop(out var id))
        {
            if (stats.TryGetValue(id, out var stat) && tree.TryAdd(id, stat))
            {
                foreach (var child in children[id])
                {
                    pending.Push(child);
                }
            }
        }

        return tree;
    }

    /// <summary>
    /// Parent id, utime+stime and RSS pages of a /proc/&lt;pid&gt;/stat line. The command name is in parentheses and may
    /// hold spaces or parentheses itself, so the fields are counted from the last ')'.
    /// </summary>
    public static ProcStat? ParseStat(string? text)
    {
        var close = text?.LastIndexOf(')') ?? -1;
        if (close < 0)
        {
            return null;
        }

        // After ") ": field 3 (state) is [0], 4 (ppid) [1], 14 (utime) [11], 15 (stime) [12], 24 (rss) [21].
        var fields = text![(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 21
            && int.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var parent)
            && long.TryParse(fields[11], NumberStyles.Integer, CultureInfo.InvariantCulture, out var user)
            && long.TryParse(fields[12], NumberStyles.Integer, CultureInfo.InvariantCulture, out var system)
            && long.TryParse(fields[21], NumberStyles.Integer, CultureInfo.InvariantCulture, out var rss)
            ? new ProcStat(parent, user + system, rss)
            : null;
    }

    /// <summary>The tree's PSS (a process without smaps_rollup counts its RSS), read every <see cref="PssIntervalSeconds"/>; its RSS scaled in between.</summary>
    private long TreeMemory(Dictionary<int, ProcStat> tree, double uptime)
    {
        var rss = tree.Values.Sum(stat => stat.RssPages * files.PageSize);
        if (_pssReadAt is { } at && uptime - at < PssIntervalSeconds)
        {
            return (long)Math.Round(rss * _pssPerRss);
        }

        var pss = tree.Sum(p => Pss(p.Key) ?? p.Value.RssPages * files.PageSize);
        _pssReadAt = uptime;
        _pssPerRss = rss > 0 ? pss / (double)rss : 1;
        return pss;
    }

    private long? Pss(int id) => KilobytesLine(files.Read($"/proc/{id}/smaps_rollup"), "Pss:");

    /// <summary>memory.current less memory.stat's inactive_file (page cache the kernel reclaims first): the working set.</summary>
    private long? WorkingSetBytes()
    {
        if (!long.TryParse(CgroupFile("memory.current")?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var current))
        {
            return null;
        }

        var inactive = CgroupFile("memory.stat")?.Split('\n').FirstOrDefault(l => l.StartsWith("inactive_file ", StringComparison.Ordinal))?["inactive_file ".Length..];
        return Math.Max(0, current - (long.TryParse(inactive, NumberStyles.Integer, CultureInfo.InvariantCulture, out var file) ? file : 0));
    }

    private long? MemTotalBytes() => KilobytesLine(files.Read("/proc/meminfo"), "MemTotal:");

    private double? ReadUptime()
    {
        var text = files.Read("/proc/uptime");
        var first = text?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? seconds : null;
    }

    /// <summary>cpu.max is "<c>quota period</c>" in microseconds, or "<c>max period</c>" when unlimited.</summary>
    private double? CpuQuotaCores()
    {
        var parts = CgroupFile("cpu.max")?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts is [var quota, var period]
            && long.TryParse(quota, NumberStyles.Integer, CultureInfo.InvariantCulture, out var q)
            && long.TryParse(period, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) && q > 0 && p > 0
            ? q / (double)p
            : null;
    }

    /// <summary>memory.max is a byte count, or "<c>max</c>" when unlimited.</summary>
    private long? MemoryLimitBytes() =>
        long.TryParse(CgroupFile("memory.max")?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes) && bytes > 0 ? bytes : null;

    /// <summary>
    /// A cgroup v2 file of this process's own cgroup (the "0::/path" line of /proc/self/cgroup), else of the root
    /// /sys/fs/cgroup (what a container with its own cgroup namespace sees).
    /// </summary>
    private string? CgroupFile(string name)
    {
        var own = files.Read($"/proc/{files.CurrentProcessId}/cgroup")?
            .Split('\n').FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal))?[3..].Trim().TrimEnd('/');
        return (string.IsNullOrEmpty(own) ? null : files.Read($"/sys/fs/cgroup{own}/{name}")) ?? files.Read($"/sys/fs/cgroup/{name}");
    }

    private static long? KilobytesLine(string? text, string label)
    {
        var line = text?.Split('\n').FirstOrDefault(l => l.StartsWith(label, StringComparison.Ordinal));
        var number = line?[label.Length..].Trim().Split(' ')[0];
        return long.TryParse(number, NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : null;
    }

    /// <summary>The figures of one /proc/&lt;pid&gt;/stat line the sampler uses (<see cref="Ticks"/>: utime+stime, in <see cref="ClockTicksPerSecond"/>).</summary>
    public sealed record ProcStat(int ParentId, long Ticks, long RssPages);
}
