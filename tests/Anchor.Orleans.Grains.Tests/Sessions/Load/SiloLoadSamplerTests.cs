using Anchor.Orleans.Grains.Sessions.Load;

namespace Anchor.Orleans.Grains.Tests.Sessions.Load;

/// <summary>The sampler against fake /proc and cgroup files: the silo's process tree only, as exact shares.</summary>
public sealed class SiloLoadSamplerTests
{
    private const int Silo = 100;

    /// <summary>
    /// The silo (100), its Chromium (200, a name with spaces and parentheses) and a renderer below it (300); 400 is another
    /// silo's process on the same machine and must not count.
    /// </summary>
    private static FakeSystemFiles Machine(int processors = 4)
    {
        var files = new FakeSystemFiles(Silo, processors);
        files.Files["/proc/meminfo"] = "MemTotal:        2000000 kB\nMemFree:          500000 kB\n";
        files.Files["/proc/uptime"] = "1000.00 3900.00\n";
        files.Files[$"/proc/{Silo}/cgroup"] = "0::/\n";
        files.Process(Silo, "Anchor.Orleans.Silo", parent: 1, utime: 10, stime: 5, rssPages: 30000, pssKb: 100000);
        files.Process(200, "chrome (main) x", parent: Silo, utime: 100, stime: 50, rssPages: 25000);
        files.Process(300, "chrome", parent: 200, utime: 20, stime: 10, rssPages: 20000, pssKb: 50000);
        files.Process(400, "other silo", parent: 1, utime: 9000, stime: 9000, rssPages: 900000, pssKb: 3600000);
        return files;
    }

    /// <summary>Two seconds later: the tree used 200 ticks (2 CPU-seconds), the other silo 1000.</summary>
    private static void TwoSecondsLater(FakeSystemFiles files)
    {
        files.Files["/proc/uptime"] = "1002.00 3904.00\n";
        files.Process(Silo, "Anchor.Orleans.Silo", parent: 1, utime: 25, stime: 10, rssPages: 30000, pssKb: 100000);
        files.Process(200, "chrome (main) x", parent: Silo, utime: 180, stime: 70, rssPages: 25000);
        files.Process(300, "chrome", parent: 200, utime: 60, stime: 50, rssPages: 20000, pssKb: 50000);
        files.Process(400, "other silo", parent: 1, utime: 9500, stime: 9500, rssPages: 900000, pssKb: 3600000);
    }

    [Fact]
    public void Sample_CountsTheSiloTreeOnly_AgainstAllCoresAndMemTotal_WithoutACgroupLimit()
    {
        var files = Machine(processors: 4);
        var sampler = new SiloLoadSampler(files);
        Assert.Null(sampler.Sample()); // A rate needs two readings.
        TwoSecondsLater(files);

        var figures = sampler.Sample();

        // CPU: 200 ticks = 2 s of CPU in 2 s = 1 core of 4. Memory: PSS 100000 kB + RSS 25000 pages × 4 KiB (no
        // smaps_rollup) + PSS 50000 kB = 256,000,000 bytes of MemTotal 2,048,000,000.
        Assert.Equal(new SiloLoadFigures(0.25, 0.125, 4, 256_000_000, 2_048_000_000, 3), figures);
    }

    [Fact]
    public void Sample_UsesTheCgroupQuotaAndMemoryMax_OfTheSilosOwnCgroup()
    {
        var files = Machine(processors: 4);
        files.Files[$"/proc/{Silo}/cgroup"] = "0::/kubepods/pod1/silo\n";
        files.Files["/sys/fs/cgroup/cpu.max"] = "400000 100000\n"; // The root's, not this silo's.
        files.Files["/sys/fs/cgroup/kubepods/pod1/silo/cpu.max"] = "250000 100000\n";
        files.Files["/sys/fs/cgroup/kubepods/pod1/silo/memory.max"] = "1024000000\n";
        var sampler = new SiloLoadSampler(files);
        sampler.Sample();
        TwoSecondsLater(files);

        var figures = sampler.Sample();

        Assert.Equal(new SiloLoadFigures(0.4, 0.25, 2.5, 256_000_000, 1_024_000_000, 3), figures);
    }

    [Fact]
    public void Sample_UnderACgroupMemoryLimit_CountsTheCgroupsWorkingSet_WithoutReadingSmaps()
    {
        var files = Machine(processors: 4);
        files.Files[$"/proc/{Silo}/cgroup"] = "0::/kubepods/pod1/silo\n";
        files.Files["/sys/fs/cgroup/kubepods/pod1/silo/memory.max"] = "1000000000\n";
        files.Files["/sys/fs/cgroup/kubepods/pod1/silo/memory.current"] = "700000000\n";
        files.Files["/sys/fs/cgroup/kubepods/pod1/silo/memory.stat"] = "anon 500000000\nfile 200000000\nactive_file 50000000\ninactive_file 150000000\n";
        var sampler = new SiloLoadSampler(files);
        sampler.Sample();
        TwoSecondsLater(files);

        var figures = sampler.Sample();

        // 700,000,000 − 150,000,000 of inactive page cache = 550,000,000 of 1,000,000,000.
        Assert.Equal(new SiloLoadFigures(0.25, 0.55, 4, 550_000_000, 1_000_000_000, 3), figures);
        Assert.DoesNotContain(files.ReadPaths, p => p.EndsWith("/smaps_rollup", StringComparison.Ordinal));
    }

    [Fact]
    public void Sample_WithoutALimit_ReadsPssEvery30Seconds_AndScalesTheRssInBetween()
    {
        var files = Machine(processors: 4);
        var sampler = new SiloLoadSampler(files);
        sampler.Sample(); // t = 1000: PSS read, 256,000,000 bytes for an RSS of 75,000 pages (307,200,000 bytes).
        var smaps = files.ReadPaths.Count(p => p.EndsWith("/smaps_rollup", StringComparison.Ordinal));

        // t = 1010: the renderer's RSS doubled (20,000 → 40,000 pages) and its PSS changed; only the RSS is read.
        files.Files["/proc/uptime"] = "1010.00 3920.00\n";
        files.Process(300, "chrome", parent: 200, utime: 20, stime: 10, rssPages: 40000, pssKb: 90000);
        var between = sampler.Sample()!;

        // t = 1030: 30 s after the last PSS reading, PSS again: 100,000 + 25,000 × 4 + 90,000 kB.
        files.Files["/proc/uptime"] = "1030.00 3960.00\n";
        var reread = sampler.Sample()!;

        Assert.Equal(3, smaps); // One per process of the tree (Chromium's main process has none here: its RSS counts).
        Assert.Equal(3, files.ReadPaths.Count(p => p.EndsWith("/smaps_rollup", StringComparison.Ordinal)) - smaps); // Only at t = 1030.
        // 95,000 pages × 4,096 × (256,000,000 ÷ 307,200,000) = 324,266,667.
        Assert.Equal(324_266_667, between.MemoryBytes);
        Assert.Equal(296_960_000, reread.MemoryBytes);
    }

    [Fact]
    public void Sample_FallsBackToTheRootCgroupFiles_AndTreatsMaxAsNoLimit()
    {
        var files = Machine(processors: 8);
        files.Files["/sys/fs/cgroup/cpu.max"] = "max 100000\n";
        files.Files["/sys/fs/cgroup/memory.max"] = "max\n";
        var sampler = new SiloLoadSampler(files);
        sampler.Sample();
        TwoSecondsLater(files);
        Assert.Equal(new SiloLoadFigures(0.125, 0.125, 8, 256_000_000, 2_048_000_000, 3), sampler.Sample());

        files.Files["/sys/fs/cgroup/cpu.max"] = "100000 100000\n";
        files.Files["/sys/fs/cgroup/memory.max"] = "512000000\n";
        files.Files["/proc/uptime"] = "1004.00 3908.00\n"; // No tick in these 2 s.
        Assert.Equal(new SiloLoadFigures(0, 0.5, 1, 256_000_000, 512_000_000, 3), sampler.Sample());
    }

    [Fact]
    public void Sample_ClampsToZero_WhenAProcessOfTheTreeExitedWithItsTicks_AndToOneAboveTheQuota()
    {
        var files = Machine(processors: 1);
        var sampler = new SiloLoadSampler(files);
        sampler.Sample();
        files.Files.Remove("/proc/200/stat"); // Chromium exited (its renderer 300 is no longer below the silo either).
        files.Files["/proc/uptime"] = "1002.00 3904.00\n";
        Assert.Equal(0, sampler.Sample()!.CpuRatio);

        files.Process(Silo, "Anchor.Orleans.Silo", parent: 1, utime: 400, stime: 5, rssPages: 30000, pssKb: 100000);
        files.Files["/proc/uptime"] = "1004.00 3908.00\n";
        Assert.Equal(1, sampler.Sample()!.CpuRatio);
    }

    [Fact]
    public void Sample_IsNull_WithoutProc()
    {
        var sampler = new SiloLoadSampler(new FakeSystemFiles(Silo, 2));
        Assert.Null(sampler.Sample());
        Assert.Null(sampler.Sample());
    }
}
