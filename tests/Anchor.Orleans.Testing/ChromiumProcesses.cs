namespace Anchor.Orleans.Testing;

/// <summary>Chromium processes on this machine whose command line carries a marker (the engine's instance switch).</summary>
public static class ChromiumProcesses
{
    public static IReadOnlyList<int> WithMarker(string marker)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (cmdline.Contains(marker, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    /// <summary>
    /// The marked processes and all their descendants (renderers, GPU and utility processes do not repeat the
    /// browser's switches on their own command lines).
    /// </summary>
    public static IReadOnlyList<int> TreeOf(string marker) => Below(WithMarker(marker));

    /// <summary>Every process on the machine whose name (/proc/&lt;pid&gt;/comm) starts with <paramref name="name"/>.</summary>
    public static IReadOnlyList<int> Named(string name) =>
        [.. Directory.EnumerateDirectories("/proc")
            .Where(dir => int.TryParse(Path.GetFileName(dir), out _) && (ReadQuietly(Path.Combine(dir, "comm"))?.StartsWith(name, StringComparison.Ordinal) ?? false))
            .Select(dir => int.Parse(Path.GetFileName(dir), System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>
    /// A process's arguments (its program first); empty once it has ended. Chromium's zygote children rewrite their
    /// title, so theirs read as one argument: ask <see cref="TypeOf"/> for their kind.
    /// </summary>
    public static IReadOnlyList<string> CommandLine(int pid) =>
        ReadQuietly($"/proc/{pid}/cmdline")?.Split('\0', StringSplitOptions.RemoveEmptyEntries) ?? [];

    /// <summary>A Chromium process's <c>--type</c> (renderer, gpu-process, utility, zygote); null for the browser process or when it has ended.</summary>
    public static string? TypeOf(int pid) =>
        ReadQuietly($"/proc/{pid}/cmdline")?.Replace('\0', ' ').Split(' ').FirstOrDefault(a => a.StartsWith("--type=", StringComparison.Ordinal))?["--type=".Length..];

    /// <summary>CPU time (user + system) <paramref name="pids"/> have used so far, in milliseconds; a process that ended counts 0.</summary>
    public static double CpuMs(IEnumerable<int> pids) => pids.Sum(pid =>
    {
        var path = $"/proc/{pid}/stat";
        var stat = Grains.Sessions.Load.SiloLoadSampler.ParseStat(ReadQuietly(path));
        return stat is null ? 0 : stat.Ticks * 1000.0 / Grains.Sessions.Load.SiloLoadSampler.ClockTicksPerSecond;
    });

    private static string? ReadQuietly(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // It ended while we read it.
        }
    }

    /// <summary><paramref name="roots"/> and every process below them.</summary>
    public static IReadOnlyList<int> Below(IEnumerable<int> roots)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                if (Grains.Sessions.Load.SiloLoadSampler.ParseStat(ReadQuietly(Path.Combine(dir, "stat"))) is { } stat)
                {
                    parents[pid] = stat.ParentId;
                }
            }
        }

        var tree = new HashSet<int>(roots);
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var (pid, parent) in parents)
            {
                if (!tree.Contains(pid) && tree.Contains(parent))
                {
                    grew = tree.Add(pid) || grew;
                }
            }
        }

        return [.. tree];
    }
}
