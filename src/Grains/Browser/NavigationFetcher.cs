using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>A navigation the fetcher could not complete, with why (for the agent) and the Chromium error to abort with.</summary>
public sealed class NavigationFailure(string code, string reason, string abortCode) : Exception(reason)
{
    /// <summary>The agent-facing code: <c>browser_error</c>, or <c>url_blocked</c> when the address failed the policy.</summary>
    public string Code { get; } = code;

    /// <summary>One of Playwright's <c>route.abort</c> error codes.</summary>
    public string AbortCode { get; } = abortCode;
}

/// <summary>What a navigation fetched: status, headers (duplicates kept, e.g. several Set-Cookie) and the decoded body.</summary>
public sealed record FetchedResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body);

/// <summary>
/// Fetches the navigations of every session on this silo, so a redirect can be checked before the browser follows
/// it. Streams the body and stops at <c>Browser:MaxResponseBytes</c> (nothing is buffered past it, unlike
/// Playwright's <c>route.fetch</c>, which holds whole bodies in its driver), connects only to an address that passed
/// the URL policy at connect time, and names network failures (name not resolved, connection refused, TLS) at once.
/// One connection pool per silo, without cookies of its own: each request carries its session's cookies.
/// </summary>
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
    private readonly UrlPolicy _policy;
    private readonly HttpClient _http;

    public NavigationFetcher(IOptionsMonitor<BrowserOptions> options, UrlPolicy policy)
    {
        _options = options;
        _policy = policy;
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
                throw new NavigationFailure(ErrorCodes.BrowserError, $"{Safe(url)} is a download (Content-Disposition: attachment); sessions do not download files", "aborted");
            }

            if (response.Content.Headers.ContentLength > limit)
            {
                throw TooLarge(url, limit);
            }

            return new FetchedResponse((int)response.StatusCode, HeadersOf(response), await ReadCappedAsync(response.Content, url, limit, cancellationToken));
        }
        catch (HttpRequestException ex)
        {
            throw ex.InnerException as NavigationFailure ?? Describe(url, ex);
        }
    }

    /// <summary>Resolves the host and connects only to an address the policy allows — the address checked is the one used.</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var allowed = context.InitialRequestMessage.Options.TryGetValue(AllowedHostsKey, out var hosts) ? hosts : [];
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        }
        catch (SocketException ex)
        {
            throw new NavigationFailure(ErrorCodes.BrowserError, $"the name '{host}' could not be resolved ({ex.SocketErrorCode})", "namenotresolved");
        }

        if (!_policy.Trusts(host, allowed))
        {
            var refused = addresses.Select(a => (Address: a, Category: UrlPolicy.Classify(a))).Where(a => a.Category is not null).ToList();
            addresses = [.. addresses.Where(a => UrlPolicy.Classify(a) is null)];
            if (addresses.Length == 0 && refused.Count > 0)
            {
                throw new NavigationFailure(ErrorCodes.UrlBlocked, $"host '{host}' resolves to a {refused[0].Category} address ({refused[0].Address})", "blockedbyclient");
            }
        }

        if (addresses.Length == 0)
        {
            throw new NavigationFailure(ErrorCodes.BrowserError, $"the name '{host}' could not be resolved (no address)", "namenotresolved");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            var (what, abort) = ex.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => ("the connection was refused", "connectionrefused"),
                SocketError.TimedOut => ("the connection timed out", "timedout"),
                SocketError.HostUnreachable or SocketError.NetworkUnreachable => ("the address is unreachable", "addressunreachable"),
                _ => ($"the connection failed ({ex.SocketErrorCode})", "connectionfailed"),
            };
            throw new NavigationFailure(ErrorCodes.BrowserError, $"{what} by {host}:{context.DnsEndPoint.Port}", abort);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
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

    private static NavigationFailure TooLarge(Uri url, long limit) =>
        new(ErrorCodes.BrowserError, $"the response of {Safe(url)} is larger than Browser:MaxResponseBytes ({limit} bytes) and was cut off", "aborted");

    private static NavigationFailure Describe(Uri url, HttpRequestException ex) => ex.HttpRequestError switch
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
