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

    /// <summary><paramref name="roots"/> and every process below them.</summary>
    public static IReadOnlyList<int> Below(IEnumerable<int> roots)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    parents[pid] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
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
