namespace Anchor.Orleans.Grains.Sessions.Load;

/// <summary>One silo's latest load as it publishes it, judged against its own thresholds.</summary>
/// <param name="Silo">The silo.</param>
/// <param name="CpuRatio">CPU of its process tree ÷ the cores it may use (0..1).</param>
/// <param name="MemoryRatio">Memory of its process tree ÷ the memory it may use (0..1).</param>
/// <param name="Sessions">Sessions open on it.</param>
/// <param name="Accepting">False while it drains for shutdown.</param>
/// <param name="Over">Whether it is above its own <c>MaxCpuPercent</c> or <c>MaxMemoryPercent</c> (it refuses new sessions).</param>
[GenerateSerializer, Immutable, Alias("anchor.SiloLoad")]
public sealed record SiloLoad(
    [property: Id(0)] SiloAddress Silo,
    [property: Id(1)] double CpuRatio,
    [property: Id(2)] double MemoryRatio,
    [property: Id(3)] int Sessions,
    [property: Id(4)] bool Accepting,
    [property: Id(5)] bool Over)
{
    /// <summary>What placement compares: the larger of the CPU and memory shares.</summary>
    public double Load => Math.Max(CpuRatio, MemoryRatio);
}

/// <summary>
/// The latest load of every silo, cluster-wide (key 0): each silo reports its own every 2 s and gets the board back in
/// the same call, so placement reads a cached copy and never waits on a grain call. A silo not heard from for
/// <see cref="SiloLoadBoardGrain.Expiry"/> is dropped. Lives only in memory: if its silo goes, it is refilled within
/// one round of reports.
/// </summary>
[Alias("anchor.ISiloLoadBoardGrain")]
public interface ISiloLoadBoardGrain : IGrainWithIntegerKey
{
    /// <summary>Records <paramref name="load"/> as its silo's latest and answers every silo's recent load (its own included).</summary>
    Task<IReadOnlyList<SiloLoad>> ReportAsync(SiloLoad load, CancellationToken cancellationToken = default);
}

/// <inheritdoc cref="ISiloLoadBoardGrain"/>
public sealed class SiloLoadBoardGrain(TimeProvider time) : Grain, ISiloLoadBoardGrain
{
    /// <summary>How long a silo's report counts (five report periods).</summary>
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(10);

    private readonly Dictionary<SiloAddress, (SiloLoad Load, DateTimeOffset At)> _latest = [];

    public Task<IReadOnlyList<SiloLoad>> ReportAsync(SiloLoad load, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(load);
        var now = time.GetUtcNow();
        _latest[load.Silo] = (load, now);
        foreach (var stale in _latest.Where(e => now - e.Value.At > Expiry).Select(e => e.Key).ToList())
        {
            _latest.Remove(stale);
        }

        return Task.FromResult<IReadOnlyList<SiloLoad>>([.. _latest.Values.Select(e => e.Load)]);
    }
}
