using System.Net;
using System.Net.Sockets;
using Anchor.Orleans.Grains.Browser.Egress;
using System.Security.Authentication;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>What a navigation fetched: status, headers (duplicates kept, e.g. several Set-Cookie) and the decoded body.</summary>
public sealed record FetchedResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body);

/// <summary>
/// Fetches the navigations of every session on this silo, so a redirect can be checked before the browser follows
/// it. Streams the body and stops at <c>Browser:MaxResponseBytes</c> (nothing is buffered past it, unlike
/// Playwright's <c>route.fetch</c>, which holds whole bodies in its driver), connects through the
/// <see cref="EgressDialer"/> like the egress proxy does (one resolution, one policy check, the checked address used),
/// and names network failures (name not resolved, connection refused, TLS) at once.
/// One connection pool per silo, without cookies of its own: each request carries its session's cookies.
/// </summary>
/// <remarks>
/// Kept beside the egress proxy because a navigation needs what a proxy cannot give: the proxy sees https only as an
/// opaque tunnel, so it can neither cut an oversized response nor tell a download or a redirect from a page, and a
/// refusal it answers reaches the agent as Chromium's bare <c>net::ERR_TUNNEL_CONNECTION_FAILED</c>. The fetcher reads
/// the response, so a navigation fails at once with the reason in words. It adds no second policy: its connections
/// come from the same dialer, resolver and <see cref="UrlPolicy.VetAsync"/> as the proxy's.
/// </remarks>
public sealed class NavigationFetcher : IDisposable
{
    private static readonly HttpRequestOptionsKey<IReadOnlyList<string>> AllowedHostsKey = new("anchor.allowed-hosts");

    // Not forwarded to the origin, or set by the fetcher itself.
    private static readonly HashSet<string> SkippedRequestHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "content-length", "cookie", "accept-encoding", "upgrade", "te",
    };

    // The body handed to the browser is decoded and whole: framing headers of the origin no longer apply.
    private static readonly HashSet<string> SkippedResponseHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive",
    };

    private readonly IOptionsMonitor<BrowserOptions> _options;
    private readonly EgressDialer _dialer;
    private readonly HttpClient _http;

    public NavigationFetcher(IOptionsMonitor<BrowserOptions> options, EgressDialer dialer)
    {
        _options = options;
        _dialer = dialer;
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.All,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = ConnectAsync,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan, // The caller's deadline bounds every fetch.
        };
    }

    public async Task<FetchedResponse> FetchAsync(
        string method, Uri url, IEnumerable<KeyValuePair<string, string>> headers, string? cookies, byte[]? body, IReadOnlyList<string> clientAllowedHosts, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        request.Options.Set(AllowedHostsKey, clientAllowedHosts);
        if (body is { Length: > 0 })
        {
            request.Content = new ByteArrayContent(body);
        }

        foreach (var (name, value) in headers)
        {
            if (SkippedRequestHeaders.Contains(name) || name.StartsWith(':'))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }

        if (!string.IsNullOrEmpty(cookies))
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookies);
        }

        var limit = _options.CurrentValue.MaxResponseBytes;
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.Content.Headers.ContentDisposition is { DispositionType: var disposition } && disposition.Equals("attachment", StringComparison.OrdinalIgnoreCase))
            {
                throw new EgressFailure(ErrorCodes.BrowserError, $"{Safe(url)} is a download (Content-Disposition: attachment); sessions do not download files", "aborted");
            }

            if (response.Content.Headers.ContentLength > limit)
            {
                throw TooLarge(url, limit);
            }

            return new FetchedResponse((int)response.StatusCode, HeadersOf(response), await ReadCappedAsync(response.Content, url, limit, cancellationToken));
        }
        catch (HttpRequestException ex)
        {
            throw ex.InnerException as EgressFailure ?? Describe(url, ex);
        }
    }

    /// <summary>Connects only to an address the policy allows — the address checked is the one used.</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var allowed = context.InitialRequestMessage.Options.TryGetValue(AllowedHostsKey, out var hosts) ? hosts : [];
        return new NetworkStream(await _dialer.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, allowed, cancellationToken), ownsSocket: true);
    }

    private static async Task<byte[]> ReadCappedAsync(HttpContent content, Uri url, long limit, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81_920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw TooLarge(url, limit);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static List<KeyValuePair<string, string>> HeadersOf(HttpResponseMessage response)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in response.Headers.Concat<KeyValuePair<string, IEnumerable<string>>>(response.Content.Headers))
        {
            if (!SkippedResponseHeaders.Contains(name))
            {
                headers.AddRange(values.Select(v => new KeyValuePair<string, string>(name, v)));
            }
        }

        return headers;
    }

    private static EgressFailure TooLarge(Uri url, long limit) =>
        new(ErrorCodes.BrowserError, $"the response of {Safe(url)} is larger than Browser:MaxResponseBytes ({limit} bytes) and was cut off", "aborted");

    private static EgressFailure Describe(Uri url, HttpRequestException ex) => ex.HttpRequestError switch
    {
        HttpRequestError.SecureConnectionError => new(ErrorCodes.BrowserError, $"the TLS connection to {url.Host} failed{(ex.InnerException is AuthenticationException a ? $" (certificate: {BrowserEngine.FirstLine(a.Message)})" : "")}", "failed"),
        HttpRequestError.NameResolutionError => new(ErrorCodes.BrowserError, $"the name '{url.Host}' could not be resolved", "namenotresolved"),
        HttpRequestError.ConnectionError => new(ErrorCodes.BrowserError, $"the connection to {url.Host} failed", "connectionfailed"),
        HttpRequestError.ResponseEnded => new(ErrorCodes.BrowserError, $"{url.Host} closed the connection before answering", "connectionclosed"),
        HttpRequestError.InvalidResponse => new(ErrorCodes.BrowserError, $"{url.Host} sent an invalid HTTP response", "failed"),
        _ => new(ErrorCodes.BrowserError, $"fetching {Safe(url)} failed ({ex.HttpRequestError})", "failed"),
    };

    private static string Safe(Uri url) => Telemetry.AnchorTracing.SafeUrl(url.AbsoluteUri);

    public void Dispose() => _http.Dispose();
}
