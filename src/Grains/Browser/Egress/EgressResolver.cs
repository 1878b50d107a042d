using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Browser.Egress;

/// <summary>
/// The one resolver of the browser's egress: system DNS, or the servers of <c>Browser:DnsServers</c>. It keeps no
/// cache (so no answer outlives its TTL, TTL 0 included): every connection resolves afresh and is made to exactly the
/// addresses that resolution returned and the policy checked. It fails closed: a name that does not resolve (no such
/// name, SERVFAIL, no address, no answer within <see cref="Timeout"/>) is a refusal, never "let the browser try".
/// <c>localhost</c> and <c>*.localhost</c> are loopback without asking DNS (RFC 6761 §6.3), as Chromium treats them.
/// </summary>
public sealed class EgressResolver
{
    /// <summary>How long one lookup may take before it counts as failed.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly LookupClient? _dns;

    public EgressResolver(IOptions<BrowserOptions> options)
    {
        var servers = options.Value.DnsServers;
        if (servers.Count > 0)
        {
            _dns = new LookupClient(new LookupClientOptions([.. servers.Select(ParseServer).OfType<IPEndPoint>()])
            {
                UseCache = false,
                Timeout = Timeout,
                Retries = 0,
                ThrowDnsErrors = false,
                ContinueOnDnsError = false,
                UseRandomNameServer = false,
            });
        }
    }

    /// <summary>A <c>Browser:DnsServers</c> entry (<c>10.0.0.2</c>, <c>127.0.0.1:5353</c>, <c>[::1]:53</c>), or null when it is not one.</summary>
    public static IPEndPoint? ParseServer(string server) =>
        IPEndPoint.TryParse(server.Trim(), out var endPoint) ? endPoint.Port == 0 ? new IPEndPoint(endPoint.Address, 53) : endPoint : null;

    /// <summary>The addresses <paramref name="host"/> has now; throws a <c>url_blocked</c> <see cref="EgressFailure"/> when it has none.</summary>
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return [literal];
        }

        if (host == "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal))
        {
            return [IPAddress.Loopback, IPAddress.IPv6Loopback];
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            var addresses = _dns is null ? await SystemAsync(host, timeout.Token) : await QueryAsync(_dns, host, timeout.Token);
            return addresses.Length > 0 ? addresses : throw NotResolved(host, "it has no address");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw NotResolved(host, $"no answer within {Timeout.TotalSeconds:0} s");
        }
        catch (DnsResponseException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw NotResolved(host, ex.Code == DnsResponseCode.ConnectionTimeout ? $"no answer within {Timeout.TotalSeconds:0} s" : ex.Code.ToString());
        }
    }

    private static async Task<IPAddress[]> SystemAsync(string host, CancellationToken cancellationToken)
    {
        try
        {
            return await Dns.GetHostAddressesAsync(host, cancellationToken);
        }
        catch (SocketException ex)
        {
            throw NotResolved(host, ex.SocketErrorCode switch
            {
                SocketError.HostNotFound => "no such name",
                SocketError.TryAgain => "the DNS server failed (SERVFAIL) or did not answer",
                SocketError.NoData => "it has no address",
                _ => ex.SocketErrorCode.ToString(),
            });
        }
    }

    private static async Task<IPAddress[]> QueryAsync(LookupClient dns, string host, CancellationToken cancellationToken)
    {
        var v4 = dns.QueryAsync(host, QueryType.A, QueryClass.IN, cancellationToken);
        var v6 = dns.QueryAsync(host, QueryType.AAAA, QueryClass.IN, cancellationToken);
        var answers = await Task.WhenAll(v4, v6);
        if (answers.FirstOrDefault(a => a.HasError) is { } failed)
        {
            // Either query failing fails the name: half an answer is not an answer the policy can vouch for.
            throw NotResolved(host, failed.Header.ResponseCode switch
            {
                DnsHeaderResponseCode.NotExistentDomain => "no such name",
                DnsHeaderResponseCode.ServerFailure => "the DNS server failed (SERVFAIL)",
                var code => code.ToString(),
            });
        }

        return [.. answers.SelectMany(a => a.Answers.OfType<AddressRecord>()).Select(r => r.Address)];
    }

    private static EgressFailure NotResolved(string host, string why) =>
        EgressFailure.Refused($"the name '{host}' did not resolve ({why})", "namenotresolved");
}
