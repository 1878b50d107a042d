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
/// <para>
/// One request per connection, by construction: a plain-HTTP request is checked and sent upstream with
/// <c>Connection: close</c>, only its own body (its <c>Content-Length</c>) follows it, and its response reaches the
/// browser with <c>Connection: close</c>; whatever else the browser sends on that connection is never forwarded, so
/// no later request can ride an upstream connection that was checked for another host. A CONNECT tunnel is bound to
/// the host:port it was checked for. Nothing is pooled: every request or tunnel dials (and so checks) afresh.
/// </para>
/// <para>
/// Bounded per session: every byte from the network counts against the session's budget
/// (<see cref="BrowserOptions.MaxSessionBytesPerMinute"/>; past it the session's connections close and new ones are
/// refused for the rest of the minute), so does every byte against the silo's (<see cref="BrowserOptions.MaxSiloBytesPerMinute"/>,
/// shared fairly: <see cref="EgressSiloBudget"/>), and a plain-HTTP response is cut at <c>Browser:MaxResponseBytes</c> (refused
/// unanswered when its <c>Content-Length</c> says so up front). A tunnel is opaque (TLS) and is counted, not cut. The
/// proxy holds at most one 16 KB buffer per direction per connection.
/// </para>
/// <para>
/// A refused or failed CONNECT is answered 403 or 502 (Chromium reports <c>net::ERR_TUNNEL_CONNECTION_FAILED</c>); a
/// refused or failed plain-HTTP request is closed unanswered (<c>net::ERR_EMPTY_RESPONSE</c>), because Chromium would
/// show any answer to it as the origin's page. Either way the session keeps why, in words, for
/// <see cref="NetworkGuard.FailureFor"/>.
/// A small implementation rather than YARP: YARP forwards requests Kestrel has parsed, and Kestrel serves neither
/// absolute-form requests to other hosts nor HTTP/1.1 CONNECT tunnels, which is all a browser's forward proxy does.
/// </para>
/// </remarks>
public sealed partial class EgressProxy(EgressDialer dialer, IOptionsMonitor<BrowserOptions> options, TimeProvider time, ILogger<EgressProxy> logger) : IDisposable
{
    /// <summary>The most a request's or response's line and headers may take.</summary>
    public const int MaxHeadBytes = 32 * 1024;

    /// <summary>How long a client may take to send its request's line and headers.</summary>
    public static readonly TimeSpan HeadLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A URL the proxy answers itself (204) once a request to it authenticated. A new context fetches it first, so
    /// Chromium holds the proxy credentials before the page runs: it then sends them unasked, which WebSockets need —
    /// Playwright answers the proxy's 407 challenge for HTTP requests only. <c>.invalid</c> never resolves anywhere.
    /// </summary>
    public static readonly Uri AuthProbe = new("http://egress-auth.anchor.invalid/");

    // Not forwarded upstream: the proxy's own, hop-by-hop, or framing the proxy does not carry (bodies go by Content-Length).
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "proxy-authorization", "proxy-connection", "connection", "keep-alive", "upgrade", "te", "trailer",
    };

    // Not passed back to the browser: the proxy answers every response with Connection: close.
    private static readonly HashSet<string> ResponseHopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate",
    };

    private readonly ConcurrentDictionary<string, EgressSession> _sessions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private TcpListener? _listener;
    private EgressSiloBudget? _siloBudget;

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
        var silo = LazyInitializer.EnsureInitialized(ref _siloBudget, () => new EgressSiloBudget(() => options.CurrentValue.MaxSiloBytesPerMinute, () => _sessions.Count, time));
        var session = new EgressSession(allowedHosts, options.CurrentValue.MaxSessionBytesPerMinute, time, Release, spent => LogBudgetSpent(logger, spent.BytesPerMinute), silo);
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
            // The browser or the origin went away, the session closed or went past its budget, or the silo stops: the connection just ends.
        }
        catch (Exception ex)
        {
            LogConnectionFailed(logger, ex); // A fault of the proxy itself: the connection ends, the proxy serves on.
        }
    }

    private async Task TunnelAsync(NetworkStream client, Request request, EgressSession session, CancellationToken cancellationToken)
    {
        if (!TryAuthority(request.Target, out var host, out var port))
        {
            await RespondAsync(client, 400, "Bad Request", $"browser_error: '{request.Target}' is not a host:port.");
            return;
        }

        var authority = Authority(host, port);
        if (session.OverBudget() is { } spent)
        {
            session.Fail(authority, spent.Message);
            await RespondAsync(client, 403, "Forbidden", spent.Message);
            return;
        }

        if (await DialAsync(client, host, port, tunnel: true, request.Target, session, cancellationToken) is not { } upstream)
        {
            return;
        }

        await using (upstream)
        {
            // Bound to the host:port just checked: the tunnel's bytes go to this upstream and nowhere else.
            await client.WriteAsync("HTTP/1.1 200 Connection Established\r\n\r\n"u8.ToArray(), cancellationToken);
            session.CountSent(request.Rest.Length);
            await upstream.WriteAsync(request.Rest, cancellationToken);
            using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var up = CopyAsync(client, upstream, session.CountSent, done.Token);
            var down = CopyAsync(upstream, client, session.CountReceived, done.Token);
            await Task.WhenAny(up, down);
            await done.CancelAsync();
            await Task.WhenAll(up, down);
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

        if (request.Header("Transfer-Encoding") is not null || !TryContentLength(request.Headers, out var bodyLength))
        {
            // Chromium sends HTTP/1.1 bodies with a Content-Length; the proxy forwards nothing it cannot delimit.
            await RespondAsync(client, 411, "Length Required", "browser_error: the egress proxy forwards request bodies with one Content-Length only.");
            return;
        }

        var shown = Telemetry.AnchorTracing.SafeUrl(request.Target);
        var authority = Authority(url.IdnHost, url.Port);
        if (session.OverBudget() is { } spent)
        {
            session.Fail(authority, spent.Message);
            return; // Closed unanswered.
        }

        if (await DialAsync(client, url.IdnHost, url.Port, tunnel: false, shown, session, cancellationToken) is not { } upstream)
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
            await upstream.WriteAsync(bytes, cancellationToken);
            session.CountSent(bytes.Length);

            // Only this request's own body follows it; bytes past it (a second request) are never forwarded.
            var early = (int)Math.Min(bodyLength, request.Rest.Length);
            await upstream.WriteAsync(request.Rest.AsMemory(0, early), cancellationToken);
            session.CountSent(early);
            await CopyExactlyAsync(client, upstream, bodyLength - early, session.CountSent, cancellationToken);

            using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var drained = DrainAsync(client, done);
            try
            {
                await RelayResponseAsync(client, upstream, request, shown, authority, session, done.Token);
            }
            finally
            {
                await done.CancelAsync();
                await drained;
            }
        }
    }

    /// <summary>
    /// Passes the origin's response to the browser with <c>Connection: close</c>, cut at <c>Browser:MaxResponseBytes</c>:
    /// refused unanswered when its length says so up front, else the browser's connection is reset at the limit (so a
    /// cut response never looks whole). Interim (1xx) responses pass as they are; a protocol switch is refused.
    /// </summary>
    private async Task RelayResponseAsync(NetworkStream client, NetworkStream upstream, Request request, string shown, string authority, EgressSession session, CancellationToken cancellationToken)
    {
        var limit = options.CurrentValue.MaxResponseBytes;
        var pending = Array.Empty<byte>();
        Head? head;
        int status;
        while (true)
        {
            head = await Head.ReadAsync(upstream, pending, cancellationToken);
            if (head is null)
            {
                session.Fail(authority, $"browser_error: the request to {shown} failed: the server closed the connection without a valid HTTP response.");
                return;
            }

            session.CountReceived(head.Length);
            pending = head.Rest;
            var statusLine = head.FirstLine.Split(' ', 3);
            if (statusLine.Length < 2 || !statusLine[0].StartsWith("HTTP/1.", StringComparison.Ordinal)
                || !int.TryParse(statusLine[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out status)
                || status is < 100 or > 999 || status == 101)
            {
                session.Fail(authority, $"browser_error: the request to {shown} failed: the server sent an invalid HTTP response.");
                return;
            }

            if (status >= 200)
            {
                break;
            }

            await client.WriteAsync(Encoding.Latin1.GetBytes(head.Serialize(_ => true, "")), cancellationToken);
        }

        var noBody = request.Method == "HEAD" || status is 204 or 304;
        var hasLength = TryContentLength(head.Headers, out var length) && head.Headers.Any(h => h.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase));
        if (!noBody && hasLength && length > limit)
        {
            session.Fail(authority, TooLarge(shown, limit));
            return; // Closed unanswered: nothing of it was sent.
        }

        await client.WriteAsync(Encoding.Latin1.GetBytes(head.Serialize(h => !ResponseHopByHop.Contains(h), "Connection: close\r\n")), cancellationToken);
        if (noBody)
        {
            return;
        }

        // The body: exactly its Content-Length, else (chunked, or delimited by the close) until the origin closes.
        var remaining = hasLength ? length : long.MaxValue;
        long total = 0;
        var buffer = new byte[16 * 1024];
        ReadOnlyMemory<byte> chunk = pending.AsMemory(0, (int)Math.Min(pending.Length, remaining));
        while (true)
        {
            total += chunk.Length;
            remaining -= chunk.Length;
            if (total > limit)
            {
                session.Cut(authority, TooLarge(shown, limit));
                client.Socket.LingerState = new LingerOption(true, 0); // A reset, not a close: a cut response must not look complete.
                return;
            }

            await client.WriteAsync(chunk, cancellationToken);
            if (remaining == 0)
            {
                return;
            }

            var read = await upstream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken);
            if (read == 0)
            {
                return;
            }

            session.CountReceived(read);
            chunk = buffer.AsMemory(0, read);
        }
    }

    private static string TooLarge(string shown, long limit) =>
        $"browser_error: page exceeded Browser:MaxResponseBytes: the response of {shown} is larger than {limit} bytes and was cut off.";

    /// <summary>
    /// The upstream connection, or null after telling the browser there is none: a refused tunnel is answered 403, a
    /// failed one 502; a refused or failed plain-HTTP request is closed unanswered. <paramref name="shown"/> is
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
            session.Refuse(Authority(host, port), message);
            LogRefused(logger, host, port, failure.Message);
            if (tunnel)
            {
                await RespondAsync(client, 403, "Forbidden", message);
            }

            return null;
        }
        catch (EgressFailure failure)
        {
            var message = $"browser_error: the request to {shown} failed: {failure.Message}.";
            session.Fail(Authority(host, port), message);
            if (tunnel)
            {
                await RespondAsync(client, 502, "Bad Gateway", message);
            }

            return null;
        }
    }

    /// <summary>The key a failure is kept under: <c>host:port</c>, lower case.</summary>
    internal static string Authority(string host, int port) =>
        $"{host.Trim('[', ']').ToLowerInvariant()}:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>Copies until either side ends, counting each chunk.</summary>
    private static async Task CopyAsync(Stream from, Stream to, Action<int> count, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
            {
                count(read);
                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Either side closed, the session's budget closed it, or the other direction ended the pump.
        }
    }

    /// <summary>Copies exactly <paramref name="length"/> bytes (a request body); throws <see cref="IOException"/> when the client ends first.</summary>
    private static async Task CopyExactlyAsync(Stream from, Stream to, long length, Action<int> count, CancellationToken cancellationToken)
    {
        var buffer = new byte[(int)Math.Min(16 * 1024, Math.Max(length, 1))];
        while (length > 0)
        {
            var read = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length)), cancellationToken);
            if (read == 0)
            {
                throw new IOException("the browser closed the connection inside the request body");
            }

            count(read);
            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            length -= read;
        }
    }

    /// <summary>Reads and drops whatever the browser sends after its request; when it closes, ends the exchange.</summary>
    private static async Task DrainAsync(Stream client, CancellationTokenSource done)
    {
        var buffer = new byte[4096];
        try
        {
            while (await client.ReadAsync(buffer, done.Token) > 0)
            {
                // Never forwarded: the connection carries one request.
            }

            await done.CancelAsync();
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The exchange ended, or the browser went away.
        }
    }

    /// <summary>The one Content-Length of a head (0 when it has none); false when it has several that differ, or a bad one.</summary>
    private static bool TryContentLength(IReadOnlyList<(string Name, string Value)> headers, out long length)
    {
        length = 0;
        string? seen = null;
        foreach (var (_, value) in headers.Where(h => h.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)))
        {
            if (seen is not null && seen != value || !long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out length))
            {
                return false;
            }

            seen = value;
        }

        return true;
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Browser egress connection failed")]
    private static partial void LogConnectionFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Browser egress session went past its byte budget ({Budget} bytes per minute); its connections were closed")]
    private static partial void LogBudgetSpent(ILogger logger, long budget);

    /// <summary>A request's line and headers, and whatever the client sent after them.</summary>
    private sealed record Request(string Method, string Target, string Version, IReadOnlyList<(string Name, string Value)> Headers, byte[] Rest)
    {
        public string? Header(string name) => Headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

        /// <summary>Reads up to the blank line ending the headers; null when the client closed first or sent something else.</summary>
        public static async Task<Request?> ReadAsync(Stream stream, CancellationToken cancellationToken)
        {
            if (await Head.ReadAsync(stream, [], cancellationToken) is not { } head)
            {
                return null;
            }

            var first = head.FirstLine.Split(' ');
            return first.Length == 3 && first[2].StartsWith("HTTP/1.", StringComparison.Ordinal)
                ? new Request(first[0], first[1], first[2], head.Headers, head.Rest)
                : null;
        }
    }

    /// <summary>
    /// An HTTP/1.x message head: its first line, its headers, the bytes read past it (<see cref="Rest"/>) and how many
    /// bytes were read from the stream for it (<see cref="Length"/>, for counting).
    /// </summary>
    private sealed record Head(string FirstLine, IReadOnlyList<(string Name, string Value)> Headers, byte[] Rest, int Length)
    {
        /// <summary>The head again, with only the headers <paramref name="keep"/> accepts and <paramref name="extra"/> (whole lines) added.</summary>
        public string Serialize(Func<string, bool> keep, string extra)
        {
            var text = new StringBuilder().Append(FirstLine).Append("\r\n");
            foreach (var (name, value) in Headers.Where(h => keep(h.Name)))
            {
                text.Append(name).Append(": ").Append(value).Append("\r\n");
            }

            return text.Append(extra).Append("\r\n").ToString();
        }

        /// <summary>Reads, after <paramref name="prefix"/>, up to the blank line ending the head; null when the stream ended first, the head is too large or malformed.</summary>
        public static async Task<Head?> ReadAsync(Stream stream, byte[] prefix, CancellationToken cancellationToken)
        {
            var buffer = new byte[MaxHeadBytes];
            if (prefix.Length > buffer.Length)
            {
                return null;
            }

            prefix.CopyTo(buffer, 0);
            var length = prefix.Length;
            var fresh = 0;
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
                fresh += read;
            }

            var lines = Encoding.Latin1.GetString(buffer, 0, end).Split("\r\n");
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

            return new Head(lines[0], headers, buffer.AsSpan(end + 4, length - end - 4).ToArray(), fresh);
        }
    }
}
