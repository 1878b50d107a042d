using Anchor.Orleans.Grains.Sessions.Load;

namespace Anchor.Orleans.Grains.Tests.Sessions.Load;

/// <summary>/proc and cgroup files as a test writes them.</summary>
internal sealed class FakeSystemFiles(int currentProcessId, int processorCount) : ISystemFiles
{
    public Dictionary<string, string> Files { get; } = [];

    public int CurrentProcessId => currentProcessId;

    public int ProcessorCount => processorCount;

    public int PageSize => 4096;

    public IReadOnlyList<int> ProcessIds() =>
        [.. Files.Keys.Where(p => p.StartsWith("/proc/", StringComparison.Ordinal) && p.EndsWith("/stat", StringComparison.Ordinal))
            .Select(p => int.Parse(p.Split('/')[2], System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>Every path read, in order.</summary>
    public List<string> ReadPaths { get; } = [];

    public string? Read(string path)
    {
        ReadPaths.Add(path);
        return Files.GetValueOrDefault(path);
    }

    /// <summary>A /proc/&lt;pid&gt;/stat line with the fields the sampler reads (ppid, utime, stime, rss) and zeros elsewhere.</summary>
    public void Process(int id, string name, int parent, long utime, long stime, long rssPages, long? pssKb = null)
    {
        var fields = new string[52];
        Array.Fill(fields, "0");
        fields[4] = parent.ToString(System.Globalization.CultureInfo.InvariantCulture); // Field numbers as in proc(5), from 1.
        fields[14] = utime.ToString(System.Globalization.CultureInfo.InvariantCulture);
        fields[15] = stime.ToString(System.Globalization.CultureInfo.InvariantCulture);
        fields[24] = rssPages.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Files[$"/proc/{id}/stat"] = $"{id} ({name}) S {string.Join(' ', fields[4..])}\n"; // Field 3 is the state.
        if (pssKb is { } pss)
        {
            Files[$"/proc/{id}/smaps_rollup"] = $"00400000-7ffc [rollup]\nRss:              {rssPages * 4} kB\nPss:              {pss} kB\nPss_Anon:           12 kB\n";
        }
    }
}
