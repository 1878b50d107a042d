using System.Net;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Browser.Egress;
using Anchor.Orleans.Testing;
using Anchor.Orleans.Grains.Interfaces.Errors;

namespace Anchor.Orleans.Grains.Tests.Browser;

/// <summary>
/// The URL policy's classification of addresses, names and URLs, without a browser: every literal form of a private
/// address, the special-use names, and how DNS answers are judged (a loopback test DNS server gives the answers).
/// </summary>
public sealed class UrlPolicyTests : IAsyncLifetime
{
    private readonly TestDnsServer _dns = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _dns.DisposeAsync();

    private UrlPolicy Policy(Action<BrowserOptions>? configure = null) => EgressTestParts.Policy(EgressTestParts.Options(_dns, configure));

    [Theory]
    [InlineData("10.0.0.2", "10.0.0.2:53")]
    [InlineData("127.0.0.1:5353", "127.0.0.1:5353")]
    [InlineData("[::1]:5353", "[::1]:5353")]
    [InlineData("::1", "[::1]:53")]
    [InlineData("dns.example.com", null)]
    [InlineData("10.0.0.2:99999", null)]
    public void DnsServers_AreAddressesWithAnOptionalPort(string server, string? expected) =>
        Assert.Equal(expected, EgressResolver.ParseServer(server)?.ToString());

    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.255.254", "loopback")]
    [InlineData("10.0.0.1", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("100.64.0.1", "private")] // carrier-grade NAT
    [InlineData("100.127.255.255", "private")]
    [InlineData("169.254.169.254", "cloud metadata")]
    [InlineData("169.254.170.2", "cloud metadata")]
    [InlineData("100.100.100.200", "cloud metadata")]
    [InlineData("169.254.1.1", "link-local")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("0.1.2.3", "unspecified")]
    [InlineData("192.0.0.8", "multicast or reserved")]
    [InlineData("198.18.0.1", "multicast or reserved")]
    [InlineData("224.0.0.1", "multicast or reserved")]
    [InlineData("240.0.0.1", "multicast or reserved")]
    [InlineData("255.255.255.255", "multicast or reserved")]
    [InlineData("::1", "loopback")]
    [InlineData("::", "unspecified")]
    [InlineData("::ffff:127.0.0.1", "loopback")] // IPv4-mapped
    [InlineData("::ffff:169.254.169.254", "cloud metadata")]
    [InlineData("::ffff:10.0.0.1", "private")]
    [InlineData("::127.0.0.1", "loopback")] // IPv4-compatible
    [InlineData("64:ff9b::7f00:1", "loopback")] // NAT64 of 127.0.0.1
    [InlineData("64:ff9b::a9fe:a9fe", "cloud metadata")] // NAT64 of 169.254.169.254
    [InlineData("2002:7f00:1::", "loopback")] // 6to4 of 127.0.0.1
    [InlineData("2002:a00:1::1", "private")] // 6to4 of 10.0.0.1
    [InlineData("fe80::1", "link-local")]
    [InlineData("fec0::1", "link-local")] // site-local
    [InlineData("fc00::1", "private")] // unique local
    [InlineData("fd12:3456::1", "private")]
    [InlineData("fd00:ec2::254", "cloud metadata")]
    [InlineData("ff02::1", "multicast or reserved")]
    [InlineData("8.8.8.8", null)]
    [InlineData("93.184.216.34", null)]
    [InlineData("172.32.0.1", null)]
    [InlineData("100.128.0.1", null)]
    [InlineData("2001:4860:4860::8888", null)]
    [InlineData("64:ff9b::808:808", null)] // NAT64 of a public address
    public void Classify_NamesWhatIsOffLimits(string address, string? expected) =>
        Assert.Equal(expected, UrlPolicy.Classify(IPAddress.Parse(address)));

    [Theory]
    [InlineData("http://127.0.0.1/", "127.0.0.1", "loopback", "127.0.0.1")]
    [InlineData("http://2130706433/", "127.0.0.1", "loopback", "127.0.0.1")] // decimal
    [InlineData("http://0177.0.0.1/", "127.0.0.1", "loopback", "127.0.0.1")] // octal
    [InlineData("http://0x7f.0.0.1/", "127.0.0.1", "loopback", "127.0.0.1")] // hex
    [InlineData("http://0x7f000001/", "127.0.0.1", "loopback", "127.0.0.1")]
    [InlineData("http://127.1/", "127.0.0.1", "loopback", "127.0.0.1")] // short
    [InlineData("http://0/", "0.0.0.0", "unspecified", "0.0.0.0")]
    [InlineData("http://[::1]:8080/", "::1", "loopback", "::1")]
    [InlineData("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1", "loopback", "::ffff:127.0.0.1")]
    [InlineData("http://[::ffff:a9fe:a9fe]/latest", "::ffff:169.254.169.254", "cloud metadata", "::ffff:169.254.169.254")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "169.254.169.254", "cloud metadata", "169.254.169.254")]
    [InlineData("http://[fd00:ec2::254]/", "fd00:ec2::254", "cloud metadata", "fd00:ec2::254")]
    [InlineData("http://100.64.0.1/", "100.64.0.1", "private", "100.64.0.1")]
    [InlineData("http://[fe80::1]/", "fe80::1", "link-local", "fe80::1")]
    [InlineData("https://10.1.2.3:8443/x", "10.1.2.3", "private", "10.1.2.3")]
    public async Task CheckAsync_RefusesEveryLiteralFormOfAPrivateAddress(string url, string host, string category, string address)
    {
        var refused = await Assert.ThrowsAsync<AnchorException>(() => Policy().CheckAsync(url, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(ErrorCodes.UrlBlocked, refused.Code);
        Assert.Equal($"url_blocked: {url} refused: host '{host}' resolves to a {category} address ({address}).", refused.Message);
    }

    [Theory]
    [InlineData("file:///etc/passwd", "file")]
    [InlineData("view-source:http://example.com/", "view-source")]
    [InlineData("data:text/html,<p>x</p>", "data")]
    [InlineData("javascript:alert(1)", "javascript")]
    [InlineData("chrome://settings", "chrome")]
    [InlineData("ftp://example.com/", "ftp")]
    [InlineData("ws://example.com/", "ws")]
    public async Task CheckAsync_RefusesSchemesOtherThanHttp(string url, string scheme)
    {
        var refused = await Assert.ThrowsAsync<AnchorException>(() => Policy().CheckAsync(url, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal($"url_blocked: {url} refused: the '{scheme}:' scheme is not allowed; only http and https.", refused.Message);
    }

    [Theory]
    [InlineData("foo.localhost", ".localhost")]
    [InlineData("printer.local", ".local")]
    [InlineData("kubernetes.default.svc.cluster.local", ".local")]
    [InlineData("db.internal", ".internal")]
    [InlineData("nas.home.arpa", ".home.arpa")]
    [InlineData("1.0.0.127.in-addr.arpa", ".arpa")]
    [InlineData("x.invalid", ".invalid")]
    [InlineData("hidden.onion", ".onion")]
    [InlineData("router.lan", ".lan")]
    [InlineData("redis.default.svc", ".svc")]
    [InlineData("redis", "a single-label name, resolved through the local search domains")]
    public async Task CheckAsync_RefusesSpecialUseNames_WithoutAskingDns(string host, string why)
    {
        var refused = await Assert.ThrowsAsync<AnchorException>(() => Policy().CheckAsync($"http://{host}/", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal($"url_blocked: http://{host}/ refused: host '{host}' is a special-use name ({why}) that never names a public site.", refused.Message);
        Assert.Equal(0, _dns.Lookups(host));
    }

    [Fact]
    public async Task CheckAsync_RefusesMetadataNames()
    {
        var refused = await Assert.ThrowsAsync<AnchorException>(() => Policy().CheckAsync("http://metadata.google.internal/computeMetadata/v1/", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal("url_blocked: http://metadata.google.internal/computeMetadata/v1/ refused: host 'metadata.google.internal' is a cloud metadata service.", refused.Message);
    }

    [Fact]
    public async Task VetAsync_ReturnsTheAddressesOfAPublicName()
    {
        _dns.Answer("shop.example.com", IPAddress.Parse("93.184.216.34"), IPAddress.Parse("2606:2800:220:1::1"));

        var addresses = await Policy().VetAsync("shop.example.com", null, TestContext.Current.CancellationToken);

        Assert.Equal(["93.184.216.34", "2606:2800:220:1::1"], addresses.Select(a => a.ToString()).Order().Reverse());
    }

    [Fact]
    public async Task VetAsync_RefusesANameWithAnyPrivateAddress_EvenBesidePublicOnes()
    {
        _dns.Answer("mixed.example.com", IPAddress.Parse("93.184.216.34"), IPAddress.Parse("10.0.0.7"));

        var refused = await Assert.ThrowsAsync<EgressFailure>(() => Policy().VetAsync("mixed.example.com", null, TestContext.Current.CancellationToken));

        Assert.Equal(ErrorCodes.UrlBlocked, refused.Code);
        Assert.Equal("host 'mixed.example.com' resolves to a private address (10.0.0.7)", refused.Message);
    }

    [Fact]
    public async Task VetAsync_AsksDnsEveryTime_SoARebindingNameIsRefusedOnceItRebinds()
    {
        _dns.Rebind("rebind.example.com", IPAddress.Parse("93.184.216.34"), IPAddress.Loopback);
        var policy = Policy();

        var first = await policy.VetAsync("rebind.example.com", null, TestContext.Current.CancellationToken);
        var second = await Assert.ThrowsAsync<EgressFailure>(() => policy.VetAsync("rebind.example.com", null, TestContext.Current.CancellationToken));

        Assert.Equal("93.184.216.34", Assert.Single(first).ToString());
        Assert.Equal("host 'rebind.example.com' resolves to a loopback address (127.0.0.1)", second.Message);
        Assert.Equal(2, _dns.Lookups("rebind.example.com"));
    }

    [Fact]
    public async Task VetAsync_FailsClosed_OnNxdomainAndServfail()
    {
        _dns.ServFail("broken.example.com");
        var policy = Policy();

        var missing = await Assert.ThrowsAsync<EgressFailure>(() => policy.VetAsync("missing.example.com", null, TestContext.Current.CancellationToken));
        var broken = await Assert.ThrowsAsync<EgressFailure>(() => policy.VetAsync("broken.example.com", null, TestContext.Current.CancellationToken));

        Assert.Equal(ErrorCodes.UrlBlocked, missing.Code);
        Assert.Equal("the name 'missing.example.com' did not resolve (no such name)", missing.Message);
        Assert.Equal(ErrorCodes.UrlBlocked, broken.Code);
        Assert.Equal("the name 'broken.example.com' did not resolve (the DNS server failed (SERVFAIL))", broken.Message);
    }

    [Fact]
    public async Task VetAsync_FailsClosed_WhenTheDnsServerIsDown()
    {
        var down = FreePorts.Next();
        var policy = EgressTestParts.Policy(new BrowserOptions { DnsServers = [$"127.0.0.1:{down}"] });

        var refused = await Assert.ThrowsAsync<EgressFailure>(() => policy.VetAsync("shop.example.com", null, TestContext.Current.CancellationToken));

        Assert.Equal(ErrorCodes.UrlBlocked, refused.Code);
        Assert.StartsWith("the name 'shop.example.com' did not resolve (", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowedHosts_WinOverThePrivateBlockAndSpecialUseNames_ButNotOverBlockedHosts()
    {
        _dns.Answer("db.internal", IPAddress.Parse("10.0.0.5"));
        var policy = Policy(o =>
        {
            o.AllowedHosts = ["localhost", "*.internal"];
            o.BlockedHosts = ["secret.internal"];
        });

        var local = await policy.VetAsync("localhost", null, TestContext.Current.CancellationToken);
        var internalHost = await policy.VetAsync("db.internal", null, TestContext.Current.CancellationToken);
        var blocked = await Assert.ThrowsAsync<EgressFailure>(() => policy.VetAsync("secret.internal", null, TestContext.Current.CancellationToken));
        var clientAllowed = await policy.VetAsync("127.0.0.1", ["127.0.0.1"], TestContext.Current.CancellationToken);

        Assert.Equal(["127.0.0.1", "::1"], local.Select(a => a.ToString()));
        Assert.Equal("10.0.0.5", Assert.Single(internalHost).ToString());
        Assert.Equal("host 'secret.internal' is listed in Browser:BlockedHosts", blocked.Message);
        Assert.Equal("127.0.0.1", Assert.Single(clientAllowed).ToString());
        Assert.Equal(0, _dns.Lookups("localhost"));
    }

    [Fact]
    public async Task AllowedHosts_StillFailClosed_WhenTheNameDoesNotResolve()
    {
        var policy = Policy(o => o.AllowedHosts = ["*.example.com"]);

        var refused = await Assert.ThrowsAsync<EgressFailure>(() => policy.VetAsync("gone.example.com", null, TestContext.Current.CancellationToken));

        Assert.Equal("the name 'gone.example.com' did not resolve (no such name)", refused.Message);
    }
}
