namespace Anchor.Orleans.Grains.Sessions.Load;

/// <summary>
/// The few operating-system figures a silo's load is read from (/proc and the cgroup v2 files), behind an interface so
/// tests can feed them.
/// </summary>
public interface ISystemFiles
{
    /// <summary>This silo's process id: the root of the process tree that is measured.</summary>
    int CurrentProcessId { get; }

    /// <summary>The cores the runtime sees (used when no cgroup CPU quota is set).</summary>
    int ProcessorCount { get; }

    /// <summary>Bytes per memory page (RSS in /proc/&lt;pid&gt;/stat is counted in pages).</summary>
    int PageSize { get; }

    /// <summary>The ids of every process visible in /proc.</summary>
    IReadOnlyList<int> ProcessIds();

    /// <summary>The text of <paramref name="path"/>, or null when it is missing or unreadable (a process that just exited).</summary>
    string? Read(string path);
}

/// <summary>The real /proc and /sys/fs/cgroup of this machine.</summary>
public sealed class SystemFiles : ISystemFiles
{
    public int CurrentProcessId => Environment.ProcessId;

    public int ProcessorCount => Environment.ProcessorCount;

    public int PageSize => Environment.SystemPageSize;

    public IReadOnlyList<int> ProcessIds()
    {
        try
        {
            var ids = new List<int>();
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(directory), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
                {
                    ids.Add(id);
                }
            }

            return ids;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    public string? Read(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // The process exited between listing and reading, or the file is not ours to read.
        }
    }
}
