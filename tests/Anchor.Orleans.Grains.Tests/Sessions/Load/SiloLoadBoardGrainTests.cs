using Anchor.Orleans.Grains.Sessions.Load;

namespace Anchor.Orleans.Grains.Tests.Sessions.Load;

/// <summary>The cluster's board of silo loads on the test cluster's fake clock.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SiloLoadBoardGrainTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Report_AnswersEveryRecentSilo_AndDropsOneNotHeardFromFor10Seconds()
    {
        var board = fixture.Grains.GetGrain<ISiloLoadBoardGrain>(0);
        var a = new SiloLoad(SiloAddress.FromParsableString("10.0.0.1:11111@1"), 0.5, 0.25, 2, true, false);
        var b = new SiloLoad(SiloAddress.FromParsableString("10.0.0.2:11111@1"), 0.95, 0.1, 7, true, true);

        await board.ReportAsync(a, TestContext.Current.CancellationToken);
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(4));
        var both = await board.ReportAsync(b, TestContext.Current.CancellationToken);
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(6));
        var stillBoth = await board.ReportAsync(b with { Sessions = 8 }, TestContext.Current.CancellationToken);
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        var onlyB = await board.ReportAsync(b with { Sessions = 9 }, TestContext.Current.CancellationToken);

        Assert.Equal([a, b], both.Where(l => l.Silo.Equals(a.Silo) || l.Silo.Equals(b.Silo)).OrderBy(l => l.Sessions));
        Assert.Equal([a, b with { Sessions = 8 }], stillBoth.Where(l => l.Silo.Equals(a.Silo) || l.Silo.Equals(b.Silo)).OrderBy(l => l.Sessions));
        Assert.Equal([b with { Sessions = 9 }], onlyB.Where(l => l.Silo.Equals(a.Silo) || l.Silo.Equals(b.Silo)));
    }
}
