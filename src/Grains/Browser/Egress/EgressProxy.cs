using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Browser.Egress;

/// <summary>
/// This silo's forward proxy for its browser: every context of a launched Chromium sends all its traffic here
/// (plain HTTP as absolute-form requests; https, ws and wss as CONNECT tunnels), authenticated with its
/// <see cref="EgressSession"/>'s credentials. Each connection is opened by the <see cref="EgressDialer"/>: the name is
/// resolved once, checked by the URL policy, and only the checked address is connected to — Chromium never resolves
/// or connects by itself. Listens on 127.0.0.1 on an ephemeral port, started with the browser.
/// </summary>
/// <remarks>
/// A refused CONNECT is answered 403 (Chromium reports <c>net::ERR_TUNNEL_CONNECTION_FAILED</c>); a refused plain-HTTP
/// request is closed unanswered (<c>net::ERR_EMPTY_RESPONSE</c>), because Chromium would show any answer to it as the
/// origin's page. Either way the session keeps the refusal in words (<see cref="EgressSession.LastRefusal"/>).
/// A small implementation rather than YARP: YARP forwards requests Kestrel has parsed, and Kestrel serves neither
/// absolute-form requests to other hosts nor HTTP/1.1 CONNECT tunnels, which is all a browser's forward proxy does.
/// Plain-HTTP requests go upstream with <c>Connection: close</c>, one request per connection, so a response is cut at
/// <c>Browser:MaxResponseBytes</c>; a tunnel is opaque (TLS) and is counted, not cut.
/// </remarks>
public sealed partial class EgressProxy(EgressDialer dialer, IOptionsMonitor<BrowserOptions> options, ILogger<EgressProxy> logger) : IDisposable
{
    /// <summary>The most a request's line and headers may take.</summary>
    public const int MaxHeadBytes = 32 * 1024;

    /// <summary>How long a client may take to send its request's line and headers.</summary>
    public static readonly TimeSpan HeadLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A URL the proxy answers itself (204) once a request to it authenticated. A new context fetches it first, so
    /// Chromium holds the proxy credentials before the page runs: it then sends them unasked, which WebSockets need —
    /// Playwright answers the proxy's 407 challenge for HTTP requests only. <c>.invalid</c> never resolves anywhere.
    /// </summary>
    public static readonly Uri AuthProbe = new("http://egress-auth.anchor.invalid/");

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "proxy-authorization", "proxy-connection", "connection", "keep-alive",
    };

    private readonly ConcurrentDictionary<string, EgressSession> _sessions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private TcpListener? _listener;

    /// <summary>Where contexts reach the proxy (valid once started).</summary>
    public Uri Address { get; private set; } = new("http://127.0.0.1:0");

    /// <summary>Starts listening, once; later calls do nothing.</summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
            if (_listener is not null)
            {
                return;
            }

            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
            // On the thread pool: Start runs inside whichever session grain launched the browser, and a loop started
            // there would serve every session's connections on that one activation's scheduler, for good (the soak
            // logged Orleans' long-turn warning for AcceptAsync under a browsersession activation).
            var listener = _listener;
            _ = Task.Factory.StartNew(() => AcceptAsync(listener), CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default).Unwrap();
        }
    }

    /// <summary>Credentials for one browser context whose client may also reach <paramref name="allowedHosts"/>.</summary>
    public EgressSession Open(IReadOnlyList<string> allowedHosts)
    {
        Start();
        var session = new EgressSession(allowedHosts, Release);
        _sessions[session.UserName] = session;
        return session;
    }

    private void Release(EgressSession session)
    {
        if (_sessions.TryRemove(new KeyValuePair<string, EgressSession>(session.UserName, session)))
        {
            LogSessionClosed(logger, session.BytesReceived, session.BytesSent, session.Refused);
        }
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // One client that gave up while being accepted.
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        socket.NoDelay = true;
        await using var client = new NetworkStream(socket, ownsSocket: true);
        try
        {
            Request? request;
            using (var headLimit = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                headLimit.CancelAfter(HeadLimit);
                request = await Request.ReadAsync(client, headLimit.Token);
            }

            if (request is null)
            {
                await RespondAsync(client, 400, "Bad Request", "browser_error: the egress proxy could not read the request.");
                return;
            }

            if (Authenticate(request.Header("Proxy-Authorization")) is not { } session)
            {
                await RespondAsync(client, 407, "Proxy Authentication Required", "", "Proxy-Authenticate: Basic realm=\"anchor-egress\"\r\n");
                return;
            }

            using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, session.Closing);
            if (request.Method == "CONNECT")
            {
                await TunnelAsync(client, request, session, lifetime.Token);
            }
            else
            {
                await ForwardAsync(client, request, session, lifetime.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The browser or the origin went away, the session closed or the silo stops: the connection just ends.
        }
    }

    private async Task TunnelAsync(NetworkStream client, Request request, EgressSession session, CancellationToken cancellationToken)
    {
        if (!TryAuthority(request.Target, out var host, out var port))
        {
            await RespondAsync(client, 400, "Bad Request", $"browser_error: '{request.Target}' is not a host:port.");
            return;
        }

        if (await DialAsync(client, host, port, tunnel: true, request.Target, session, cancellationToken) is not { } upstream)
        {
            return;
        }

        await using (upstream)
        {
            await client.WriteAsync("HTTP/1.1 200 Connection Established\r\n\r\n"u8.ToArray(), cancellationToken);
            await upstream.WriteAsync(request.Rest, cancellationToken);
            await PumpAsync(client, upstream, session, responseLimit: null, cancellationToken);
        }
    }

    private async Task ForwardAsync(NetworkStream client, Request request, EgressSession session, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(request.Target, UriKind.Absolute, out var url) || url.Scheme != "http")
        {
            await RespondAsync(client, 400, "Bad Request", "browser_error: the egress proxy forwards absolute http:// requests and CONNECT tunnels only.");
            return;
        }

        if (url.IdnHost == AuthProbe.IdnHost)
        {
            await RespondAsync(client, 204, "No Content", "");
            return;
        }

        if (await DialAsync(client, url.IdnHost, url.Port, tunnel: false, Telemetry.AnchorTracing.SafeUrl(request.Target), session, cancellationToken) is not { } upstream)
        {
            return;
        }

        await using (upstream)
        {
            // The request as the origin expects it: origin-form target (taken verbatim, never re-encoded), no proxy headers, one request per connection.
            var pathStart = request.Target.IndexOf('/', url.Scheme.Length + 3);
            var head = new StringBuilder()
                .Append(request.Method).Append(' ').Append(pathStart < 0 ? "/" : request.Target[pathStart..]).Append(' ').Append(request.Version).Append("\r\n");
            foreach (var (name, value) in request.Headers.Where(h => !HopByHop.Contains(h.Name)))
            {
                head.Append(name).Append(": ").Append(value).Append("\r\n");
            }

            head.Append("Connection: close\r\n\r\n");
            var bytes = Encoding.Latin1.GetBytes(head.ToString());
            session.CountSent(bytes.Length + request.Rest.Length);
            await upstream.WriteAsync(bytes, cancellationToken);
            await upstream.WriteAsync(request.Rest, cancellationToken);
            await PumpAsync(client, upstream, session, options.CurrentValue.MaxResponseBytes, cancellationToken);
        }
    }

    /// <summary>
    /// The upstream connection, or null after telling the browser there is none: a refused tunnel is answered 403, a
    /// refused plain-HTTP request is closed unanswered; a network failure is answered 502. <paramref name="shown"/> is
    /// what the refusal names (the URL without its query, or the tunnel's host:port).
    /// </summary>
    private async Task<NetworkStream?> DialAsync(NetworkStream client, string host, int port, bool tunnel, string shown, EgressSession session, CancellationToken cancellationToken)
    {
        try
        {
            return new NetworkStream(await dialer.ConnectAsync(host, port, session.AllowedHosts, cancellationToken), ownsSocket: true);
        }
        catch (EgressFailure failure) when (failure.Code == Interfaces.Errors.ErrorCodes.UrlBlocked)
        {
            var message = $"url_blocked: {shown} refused: {failure.Message}.";
            session.Refuse(message);
            LogRefused(logger, host, port, failure.Message);
            if (tunnel)
            {
                await RespondAsync(client, 403, "Forbidden", message);
            }

            return null;
        }
        catch (EgressFailure failure)
        {
            await RespondAsync(client, 502, "Bad Gateway", $"browser_error: {failure.Message}.");
            return null;
        }
    }

    /// <summary>Copies both ways until either side ends; the origin's side is counted and cut past <paramref name="responseLimit"/>.</summary>
    private static async Task PumpAsync(NetworkStream client, NetworkStream upstream, EgressSession session, long? responseLimit, CancellationToken cancellationToken)
    {
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var up = CopyAsync(client, upstream, session.CountSent, null, done.Token);
        var down = CopyAsync(upstream, client, session.CountReceived, responseLimit, done.Token);
        await Task.WhenAny(up, down);
        await done.CancelAsync();
        await Task.WhenAll(up, down);
    }

    private static async Task CopyAsync(Stream from, Stream to, Action<int> count, long? limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        long total = 0;
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
            {
                count(read);
                total += read;
                if (total > limit)
                {
                    return; // Cut off: the browser sees the connection end mid-response; nothing more is read or held.
                }

                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Either side closed, or the other direction ended the pump.
        }
    }

    private EgressSession? Authenticate(string? header)
    {
        const string Basic = "Basic ";
        if (header is null || !header.StartsWith(Basic, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[Basic.Length..].Trim()));
        }
        catch (FormatException)
        {
            return null;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        return colon > 0
            && _sessions.TryGetValue(decoded[..colon], out var session)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(decoded[(colon + 1)..]), Encoding.UTF8.GetBytes(session.Password))
            ? session
            : null;
    }

    /// <summary>Splits a CONNECT target: <c>host:port</c> or <c>[v6]:port</c>.</summary>
    internal static bool TryAuthority(string target, out string host, out int port)
    {
        var colon = target.LastIndexOf(':');
        host = colon > 0 ? target[..colon].Trim('[', ']') : "";
        port = 0;
        return host.Length > 0 && int.TryParse(target.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;
    }

    private static async Task RespondAsync(NetworkStream client, int status, string reason, string body, string extraHeaders = "")
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var head = $"HTTP/1.1 {status} {reason}\r\n{extraHeaders}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
        using var limit = new CancellationTokenSource(HeadLimit);
        await client.WriteAsync(Encoding.ASCII.GetBytes(head), limit.Token);
        await client.WriteAsync(bytes, limit.Token);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopping.Cancel();
            _listener?.Stop();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Browser egress refused {Host}:{Port}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string host, int port, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Browser egress session closed: {BytesReceived} bytes received, {BytesSent} bytes sent, {Refused} connections refused")]
    private static partial void LogSessionClosed(ILogger logger, long bytesReceived, long bytesSent, long refused);

    /// <summary>A request's line and headers, and whatever the client sent after them.</summary>
    private sealed record Request(string Method, string Target, string Version, IReadOnlyList<(string Name, string Value)> Headers, byte[] Rest)
    {
        public string? Header(string name) => Headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

        /// <summary>Reads up to the blank line ending the headers; null when the client closed first or sent something else.</summary>
        public static async Task<Request?> ReadAsync(Stream stream, CancellationToken cancellationToken)
        {
            var buffer = new byte[MaxHeadBytes];
            var length = 0;
            int end;
            while ((end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (length == buffer.Length)
                {
                    return null;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    return null;
                }

                length += read;
            }

            var lines = Encoding.Latin1.GetString(buffer, 0, end).Split("\r\n");
            var first = lines[0].Split(' ');
            if (first.Length != 3 || !first[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            {
                return null;
            }

            var headers = new List<(string, string)>();
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    return null;
                }

                headers.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }

            return new Request(first[0], first[1], first[2], headers, buffer.AsSpan(end + 4, length - end - 4).ToArray());
        }
    }
}
