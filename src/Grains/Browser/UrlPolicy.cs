using System.Net;
using System.Net.Sockets;
using Anchor.Orleans.Grains.Browser.Egress;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// Where the browser may connect. Only http(s) (and about:blank); never a host that resolves to loopback, private,
/// link-local, cloud-metadata or other reserved addresses, nor a special-use name (<see cref="SpecialUseName"/>), unless
/// <c>Browser:AllowPrivateNetworks</c> or an allowed host pattern says so. <c>Browser:BlockedHosts</c> always refuse.
/// <see cref="VetAsync"/> is the one check every connection of the browser passes at connect time (the egress proxy
/// connects only to the addresses it returns; a remote browser's requests are vetted by the guard); <see cref="CheckAsync"/> runs it early on a
/// URL an agent names, so a refusal is named before any page loads. Refusals are <c>url_blocked</c> with the reason.
/// </summary>
public sealed class UrlPolicy(IOptionsMonitor<BrowserOptions> options, EgressResolver resolver)
{
    private static readonly IPAddress[] MetadataAddresses =
    [
        IPAddress.Parse("169.254.169.254"), // AWS, GCP, Azure, OpenStack
        IPAddress.Parse("169.254.170.2"), // AWS ECS task metadata
        IPAddress.Parse("100.100.100.200"), // Alibaba Cloud
        IPAddress.Parse("fd00:ec2::254"), // AWS IMDS over IPv6
    ];

    private static readonly string[] MetadataHostNames = ["metadata.google.internal", "metadata", "instance-data"];

    /// <summary>
    /// Name suffixes that never name a public site: they resolve to this machine, the local link or a private network
    /// (RFC 6761 <c>localhost</c> and <c>invalid</c>, RFC 6762 <c>local</c> and its suggested private names, RFC 8375
    /// <c>home.arpa</c>, ICANN's <c>internal</c>, RFC 7686 <c>onion</c>, RFC 9476 <c>alt</c>, reverse-lookup
    /// <c>arpa</c>, Kubernetes' <c>svc</c>).
    /// </summary>
    public static readonly IReadOnlyList<string> SpecialUseSuffixes =
        ["localhost", "local", "internal", "home.arpa", "arpa", "invalid", "onion", "alt", "lan", "intranet", "corp", "private", "home", "svc"];

    /// <summary>Checks <paramref name="url"/> for a client whose extra allowed hosts are <paramref name="clientAllowedHosts"/>; returns the absolute URL.</summary>
    public async Task<Uri> CheckAsync(string url, IReadOnlyList<string>? clientAllowedHosts = null, CancellationToken cancellationToken = default)
    {
        var uri = Parse(url);
        if (uri.Scheme == "about")
        {
            return uri.AbsoluteUri == "about:blank" ? uri : throw Blocked(url, "only about:blank is allowed among about: pages");
        }

        try
        {
            await VetAsync(uri.IdnHost, clientAllowedHosts, cancellationToken);
        }
        catch (EgressFailure refused)
        {
            throw Blocked(url, refused.Message);
        }

        return uri;
    }

    /// <summary>
    /// The addresses the browser may connect to for <paramref name="host"/> now: resolved once, each checked. Throws a
    /// <c>url_blocked</c> <see cref="EgressFailure"/> when the host is refused or its name does not resolve. A name
    /// with one refused address among public ones is refused whole: a mixed answer is how rebinding attacks begin.
    /// </summary>
    public async Task<IPAddress[]> VetAsync(string host, IReadOnlyList<string>? clientAllowedHosts, CancellationToken cancellationToken)
    {
        host = Normalize(host);
        var o = options.CurrentValue;
        if (o.BlockedHosts.Any(p => HostPattern.Matches(p, host)))
        {
            throw EgressFailure.Refused($"host '{host}' is listed in Browser:BlockedHosts");
        }

        var trusted = Trusts(host, clientAllowedHosts);
        if (!trusted && MetadataHostNames.Contains(host))
        {
            throw EgressFailure.Refused($"host '{host}' is a cloud metadata service");
        }

        if (!trusted && SpecialUseName(host) is { } special)
        {
            throw EgressFailure.Refused($"host '{host}' is a special-use name ({special}) that never names a public site");
        }

        var addresses = await resolver.ResolveAsync(host, cancellationToken);
        if (!trusted && addresses.Select(a => (Address: a, Category: Classify(a))).FirstOrDefault(a => a.Category is not null) is { Category: { } category } refused)
        {
            throw EgressFailure.Refused($"host '{host}' resolves to a {category} address ({refused.Address})");
        }

        return addresses;
    }

    /// <summary>Why <paramref name="host"/> (a name, not an address) is special-use, or null when it may be public.</summary>
    public static string? SpecialUseName(string host)
    {
        host = Normalize(host);
        if (IPAddress.TryParse(host, out _))
        {
            return null;
        }

        if (!host.Contains('.', StringComparison.Ordinal))
        {
            return "a single-label name, resolved through the local search domains";
        }

        return SpecialUseSuffixes.FirstOrDefault(s => host.EndsWith("." + s, StringComparison.Ordinal)) is { } suffix ? $".{suffix}" : null;
    }

    private static string Normalize(string host) => host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();

    /// <summary>
    /// True when <paramref name="host"/> may resolve to any address: it matches <c>Browser:AllowedHosts</c> or the
    /// client's own allowed hosts, or private networks are allowed.
    /// </summary>
    public bool Trusts(string host, IReadOnlyList<string>? clientAllowedHosts)
    {
        var o = options.CurrentValue;
        host = Normalize(host);
        return o.AllowPrivateNetworks
            || o.AllowedHosts.Any(p => HostPattern.Matches(p, host))
            || clientAllowedHosts?.Any(p => HostPattern.Matches(p, host)) == true;
    }

    private static Uri Parse(string url)
    {
        var text = url.Trim();
        if (text.Length == 0)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "url is empty.");
        }

        // Agents often send "example.com/path"; browsers read that as https.
        if (!text.Contains("://", StringComparison.Ordinal) && !text.Contains(':', StringComparison.Ordinal))
        {
            text = "https://" + text;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"'{url}' is not a URL.");
        }

        return uri.Scheme is "http" or "https" or "about"
            ? uri
            : throw Blocked(url, $"the '{uri.Scheme}:' scheme is not allowed; only http and https");
    }

    /// <summary>
    /// Why <paramref name="address"/> is off limits, or null when it is a public address. IPv6 forms that carry an
    /// IPv4 address (mapped, compatible, NAT64, 6to4) are judged by the IPv4 address they reach.
    /// </summary>
    public static string? Classify(IPAddress address)
    {
        if (EmbeddedIPv4(address) is { } embedded)
        {
            address = embedded;
        }

        if (MetadataAddresses.Contains(address))
        {
            return "cloud metadata";
        }

        if (IPAddress.IsLoopback(address))
        {
            return "loopback";
        }

        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
        {
            return "unspecified";
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                10 => "private",
                172 when b[1] is >= 16 and <= 31 => "private",
                192 when b[1] == 168 => "private",
                100 when b[1] is >= 64 and <= 127 => "private", // Carrier-grade NAT (RFC 6598)
                169 when b[1] == 254 => "link-local",
                0 => "unspecified",
                192 when b[1] == 0 && b[2] == 0 => "multicast or reserved", // IETF protocol assignments (RFC 6890)
                198 when b[1] is 18 or 19 => "multicast or reserved", // Benchmarking (RFC 2544)
                >= 224 => "multicast or reserved",
                _ => null,
            };
        }

        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal)
        {
            return "link-local";
        }

        if (address.IsIPv6UniqueLocal)
        {
            return "private";
        }

        return address.IsIPv6Multicast ? "multicast or reserved" : null;
    }

    /// <summary>The IPv4 address an IPv6 address reaches: ::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::a.b.c.d (NAT64), 2002:AABB:CCDD:: (6to4).</summary>
    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        var b = address.GetAddressBytes();
        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return new IPAddress(b.AsSpan(2, 4));
        }

        var nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0;
        var compatible = b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && b.AsSpan(12, 4).IndexOfAnyExcept((byte)0) >= 0 && !(b[12] == 0 && b[13] == 0 && b[14] == 0);
        return nat64 || compatible ? new IPAddress(b.AsSpan(12, 4)) : null;
    }

    private static AnchorException Blocked(string url, string reason) =>
        new(ErrorCodes.UrlBlocked, $"url_blocked: {Telemetry.AnchorTracing.WithoutCredentials(url)} refused: {reason}.");
}

/// <summary>Host patterns: <c>example.com</c> matches itself, <c>*.example.com</c> matches its subdomains.</summary>
public static class HostPattern
{
    public static bool Matches(string pattern, string host)
    {
        var p = pattern.Trim().TrimEnd('.').ToLowerInvariant();
        return p.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(p[1..], StringComparison.Ordinal)
            : host == p.Trim('[', ']');
    }
}
