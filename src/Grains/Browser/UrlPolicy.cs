using System.Net;
using System.Net.Sockets;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// Where a session may navigate. Only http(s) (and about:blank); never a host that resolves to loopback,
/// private, link-local or cloud-metadata addresses unless <c>Browser:AllowPrivateNetworks</c> or an allowed
/// host pattern says so. <c>Browser:BlockedHosts</c> always refuse. Refusals are <c>url_blocked</c> with the reason.
/// </summary>
public sealed class UrlPolicy(IOptionsMonitor<BrowserOptions> options)
{
    private static readonly IPAddress[] MetadataAddresses =
    [
        IPAddress.Parse("169.254.169.254"), // AWS, GCP, Azure, OpenStack
        IPAddress.Parse("169.254.170.2"), // AWS ECS task metadata
        IPAddress.Parse("100.100.100.200"), // Alibaba Cloud
        IPAddress.Parse("fd00:ec2::254"), // AWS IMDS over IPv6
    ];

    private static readonly string[] MetadataHostNames = ["metadata.google.internal", "metadata", "instance-data"];

    /// <summary>Checks <paramref name="url"/> for a client whose extra allowed hosts are <paramref name="clientAllowedHosts"/>; returns the absolute URL.</summary>
    public async Task<Uri> CheckAsync(string url, IReadOnlyList<string>? clientAllowedHosts = null, CancellationToken cancellationToken = default)
    {
        var uri = Parse(url);
        if (uri.Scheme == "about")
        {
            return uri.AbsoluteUri == "about:blank" ? uri : throw Blocked(url, "only about:blank is allowed among about: pages");
        }

        var o = options.CurrentValue;
        var host = uri.IdnHost.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        if (o.BlockedHosts.Any(p => HostPattern.Matches(p, host)))
        {
            throw Blocked(url, $"host '{host}' is listed in Browser:BlockedHosts");
        }

        if (Trusts(host, clientAllowedHosts))
        {
            return uri;
        }

        if (MetadataHostNames.Contains(host))
        {
            throw Blocked(url, $"host '{host}' is a cloud metadata service");
        }

        foreach (var address in await ResolveAsync(host, cancellationToken))
        {
            if (Classify(address) is { } category)
            {
                throw Blocked(url, $"host '{host}' resolves to a {category} address ({address})");
            }
        }

        return uri;
    }

    /// <summary>
    /// True when <paramref name="host"/> may resolve to any address: it matches <c>Browser:AllowedHosts</c> or the
    /// client's own allowed hosts, or private networks are allowed.
    /// </summary>
    public bool Trusts(string host, IReadOnlyList<string>? clientAllowedHosts)
    {
        var o = options.CurrentValue;
        host = host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        return o.AllowPrivateNetworks
            || o.AllowedHosts.Any(p => HostPattern.Matches(p, host))
            || clientAllowedHosts?.Any(p => HostPattern.Matches(p, host)) == true;
    }

    private static Uri Parse(string url)
    {
        var text = url.Trim();
        if (text.Length == 0)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "invalid_argument: url is empty.");
        }

        // Agents often send "example.com/path"; browsers read that as https.
        if (!text.Contains("://", StringComparison.Ordinal) && !text.Contains(':', StringComparison.Ordinal))
        {
            text = "https://" + text;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: '{url}' is not a URL.");
        }

        return uri.Scheme is "http" or "https" or "about"
            ? uri
            : throw Blocked(url, $"the '{uri.Scheme}:' scheme is not allowed; only http and https");
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return [literal];
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            return await Dns.GetHostAddressesAsync(host, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // The browser cannot reach what does not resolve; let it report the failure in its own words.
            return [];
        }
    }

    /// <summary>Why <paramref name="address"/> is off limits, or null when it is a public address.</summary>
    public static string? Classify(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
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
                100 when b[1] is >= 64 and <= 127 => "private",
                169 when b[1] == 254 => "link-local",
                0 => "unspecified",
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
