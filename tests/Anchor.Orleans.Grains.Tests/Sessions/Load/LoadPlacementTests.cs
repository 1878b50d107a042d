using Anchor.Orleans.Grains.Sessions.Load;

namespace Anchor.Orleans.Grains.Tests.Sessions.Load;

/// <summary>Where a new session goes by load (the director's rule after the placement hint).</summary>
public sealed class LoadPlacementTests
{
    private static readonly SiloAddress Here = SiloAddress.FromParsableString("127.0.0.1:11111@1");
    private static readonly SiloAddress B = SiloAddress.FromParsableString("127.0.0.1:11112@1");
    private static readonly SiloAddress C = SiloAddress.FromParsableString("127.0.0.1:11113@1");
    private static readonly SiloAddress[] All = [Here, B, C];

    private static SiloLoad Load(SiloAddress silo, double cpu, double memory = 0.1, int sessions = 0, bool accepting = true) =>
        new(silo, cpu, memory, sessions, accepting, Over: Math.Max(cpu, memory) > 0.9);

    private static SiloAddress Choose(bool hereOpen, params SiloLoad[] loads) =>
        LoadPlacement.Choose(Here, hereOpen, All, loads.ToDictionary(l => l.Silo), new Random(7));

    [Fact]
    public void Choose_StaysHere_WhileThisSiloIsUnderItsThresholds_EvenIfOthersAreLessLoaded()
    {
        Assert.Equal(Here, Choose(true, Load(Here, 0.8), Load(B, 0.1), Load(C, 0.05)));
    }

    [Fact]
    public void Choose_TakesTheLeastLoadedSiloUnderItsThresholds_WhenThisOneIsOver()
    {
        Assert.Equal(C, Choose(true, Load(Here, 0.95), Load(B, 0.5), Load(C, 0.3)));
        Assert.Equal(B, Choose(true, Load(Here, 0.95), Load(B, 0.2, memory: 0.4), Load(C, 0.1, memory: 0.6))); // Load = max(CPU, memory).
        Assert.Equal(B, Choose(true, Load(Here, 0.2, memory: 0.97), Load(B, 0.5), Load(C, 0.92))); // Over on memory; C is over too.
    }

    [Fact]
    public void Choose_BreaksTiesWithinABandOf5Points_ByFewerOpenSessions()
    {
        Assert.Equal(C, Choose(true, Load(Here, 0.99), Load(B, 0.31, sessions: 4), Load(C, 0.34, sessions: 3)));
        Assert.Equal(B, Choose(true, Load(Here, 0.99), Load(B, 0.31, sessions: 2), Load(C, 0.34, sessions: 3)));
        Assert.Equal(B, Choose(true, Load(Here, 0.99), Load(B, 0.34, sessions: 9), Load(C, 0.35, sessions: 0))); // Another band.
    }

    [Fact]
    public void Choose_SkipsDrainingSilos_AndThisOneWhenItDrains()
    {
        Assert.Equal(B, Choose(true, Load(Here, 0.95), Load(B, 0.5), Load(C, 0.1, accepting: false)));
        Assert.Equal(C, Choose(false, Load(Here, 0.01), Load(B, 0.5), Load(C, 0.4)));
        Assert.Equal(C, Choose(false, Load(B, 0.1, accepting: false))); // Nothing else known: any silo not known to drain.
    }

    [Fact]
    public void Choose_PrefersKnownUnderSilos_ThenHere_OverSilosWithNoRecentSample()
    {
        Assert.Equal(C, Choose(true, Load(C, 0.6))); // This silo not sampled yet, B unknown, C known under.
        Assert.Equal(Here, Choose(true, Load(B, 0.95))); // This silo unknown, the only known one over.
        Assert.Equal(Here, Choose(true)); // Nothing known: here, as before load was measured.
    }

    [Fact]
    public void Choose_TakesTheLeastLoadedOfAll_WhenEverySiloIsOver_SoThatOneRefuses()
    {
        Assert.Equal(B, Choose(true, Load(Here, 0.99), Load(B, 0.92), Load(C, 0.95)));
        Assert.Equal(Here, Choose(true, Load(Here, 0.93), Load(B, 0.99))); // C unknown: not chosen over a known silo.
    }
}
