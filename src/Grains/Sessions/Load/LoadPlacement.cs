namespace Anchor.Orleans.Grains.Sessions.Load;

/// <summary>
/// Where a new session goes, by load (the rule <see cref="Moves.SessionPlacementDirector"/> applies after the placement
/// hint): here while this silo is under its thresholds; else the least loaded compatible, non-draining silo known to be
/// under its thresholds; else here if this silo's load is unknown yet; else the least loaded of the silos with a known
/// load (all over; the chosen one refuses); else here; else any other non-draining silo.
/// Load is the larger of the CPU and memory shares, compared in bands of <see cref="TieBandPercent"/> points: a 2 s CPU
/// sample of a silo varies by a few points on its own, and comparing finer would send a burst of new sessions to one
/// silo. Within a band, the silo with fewer open sessions wins (counting those just placed), then chance.
/// </summary>
public static class LoadPlacement
{
    /// <summary>Loads this many percentage points apart or less (in the same band) tie.</summary>
    public const int TieBandPercent = 5;

    /// <param name="here">The silo deciding (whose front received the call).</param>
    /// <param name="hereOpen">Whether <paramref name="here"/> is active, not draining and compatible.</param>
    /// <param name="compatible">The silos that can host the grain.</param>
    /// <param name="loads">The recent load of the silos that reported.</param>
    /// <param name="random">Breaks exact ties.</param>
    public static SiloAddress Choose(SiloAddress here, bool hereOpen, IReadOnlyList<SiloAddress> compatible, IReadOnlyDictionary<SiloAddress, SiloLoad> loads, Random random)
    {
        ArgumentNullException.ThrowIfNull(compatible);
        ArgumentNullException.ThrowIfNull(loads);
        ArgumentNullException.ThrowIfNull(random);
        var mine = loads.GetValueOrDefault(here);
        if (hereOpen && mine is { Over: false })
        {
            return here;
        }

        // Silos that could take it and whose load is known: this one only if open; others only if not draining.
        var known = compatible
            .Select(s => loads.GetValueOrDefault(s))
            .OfType<SiloLoad>()
            .Where(l => l.Silo.Equals(here) ? hereOpen : l.Accepting)
            .ToList();
        if (Least(known.Where(l => !l.Over).ToList(), random) is { } under)
        {
            return under;
        }

        if (hereOpen && mine is null)
        {
            return here;
        }

        if (Least(known, random) is { } leastOver)
        {
            return leastOver;
        }

        if (hereOpen)
        {
            return here;
        }

        // Nothing known and this silo closed (draining): any other silo not known to drain, as before load was measured.
        var others = compatible.Where(s => !s.Equals(here) && loads.GetValueOrDefault(s) is not { Accepting: false }).ToArray();
        var choices = others.Length > 0 ? others : compatible.ToArray();
        return choices[random.Next(choices.Length)];
    }

    private static SiloAddress? Least(List<SiloLoad> loads, Random random)
    {
        if (loads.Count == 0)
        {
            return null;
        }

        var best = loads.MinBy(Rank)!;
        var tied = loads.Where(l => Rank(l) == Rank(best)).ToList();
        return tied[random.Next(tied.Count)].Silo;
    }

    private static (int Band, int Sessions) Rank(SiloLoad load) => ((int)Math.Floor(load.Load * 100 / TieBandPercent), load.Sessions);
}
