using System.Security.Cryptography;
using Anchor.Orleans.Grains.Recording;

namespace Anchor.Orleans.Grains.Tests.Recording;

public sealed class TraceZipTests
{
    [Fact]
    public void Cap_KeepsTheZipWhole_WhenItFits()
    {
        var zip = TraceZips.Trace("a");

        var (capped, truncated) = TraceZip.Cap(zip, zip.Length + 1_000);

        Assert.False(truncated);
        Assert.Equal(["trace.trace", "trace.network", "screencast/a.jpeg"], TraceZip.EntryNames(capped));
        Assert.Equal(TraceZips.Read(zip, "screencast/a.jpeg"), TraceZips.Read(capped, "screencast/a.jpeg"));
    }

    [Fact]
    public void Cap_DropsResources_WhenTheZipIsTooLarge()
    {
        var zip = TraceZips.Trace("a", screenshotBytes: 50_000);

        var (capped, truncated) = TraceZip.Cap(zip, 10_000);

        Assert.True(truncated);
        Assert.Equal(["trace.trace", "trace.network"], TraceZip.EntryNames(capped));
        Assert.True(capped.Length <= 10_000);
    }

    [Fact]
    public void Cap_KeepsAnEmptyZip_WhenEvenTheEventsAreTooLarge()
    {
        // Random text: compressed, the events alone stay larger than the cap.
        var zip = TraceZips.Of(("trace.trace", Convert.ToBase64String(RandomNumberGenerator.GetBytes(5_000))), ("resources/a.jpeg", "x"));

        var (capped, truncated) = TraceZip.Cap(zip, 1_000);

        Assert.True(truncated);
        Assert.Empty(TraceZip.EntryNames(capped));
        Assert.True(capped.Length <= 1_000);
    }

    [Fact]
    public void Cap_HidesCredentialsInTheNetworkLog()
    {
        const string network = """{"type":"resource-snapshot","snapshot":{"request":{"url":"http://a.test/","cookies":[{"name":"flavour","value":"oat"}],"headers":[{"name":"Proxy-Authorization","value":"Basic dXNlcjpwdw=="},{"name":"Accept","value":"*/*"}],"queryString":[{"name":"page","value":"2"},{"name":"token","value":"s3cret"}]}}}""";
        var zip = TraceZips.Of(("trace.trace", "{}"), ("trace.network", network + "\n"));

        var (capped, _) = TraceZip.Cap(zip, 100_000);

        Assert.Equal(
            """{"type":"resource-snapshot","snapshot":{"request":{"url":"http://a.test/","cookies":[{"name":"flavour","value":"(hidden, 3 characters)"}],"headers":[{"name":"Proxy-Authorization","value":"(hidden, 18 characters)"},{"name":"Accept","value":"*/*"}],"queryString":[{"name":"page","value":"2"},{"name":"token","value":"(hidden, 6 characters)"}]}}}""" + "\n",
            TraceZips.Read(capped, "trace.network"));
    }

    [Fact]
    public void Merge_NamesLaterChunksApart_AndSharesResources()
    {
        var first = TraceZips.Of(("trace.trace", "one"), ("trace.network", "n1"), ("resources/same.jpeg", "s"));
        var second = TraceZips.Of(("trace.trace", "two"), ("trace.network", "n2"), ("resources/same.jpeg", "s"), ("screencast/b.jpeg", "b"));

        var merged = TraceZip.Merge([first, second]);

        Assert.Equal(
            ["trace.trace", "trace.network", "resources/same.jpeg", "chunk1-trace.trace", "chunk1-trace.network", "screencast/b.jpeg"],
            TraceZip.EntryNames(merged));
        Assert.Equal("two", TraceZips.Read(merged, "chunk1-trace.trace"));
    }

    [Fact]
    public void Merge_ReturnsTheChunk_WhenThereIsOne()
    {
        var only = TraceZips.Trace("a");

        Assert.Same(only, TraceZip.Merge([only]));
    }
}
