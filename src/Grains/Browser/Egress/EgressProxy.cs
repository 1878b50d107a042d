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

    private readonly EgressUpstream _upstream = new(dialer, logger);
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
            EgressRequest? request;
            using (var headLimit = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                headLimit.CancelAfter(HeadLimit);
                request = await EgressRequest.ReadAsync(client, headLimit.Token);
            }

            if (request is null)
            {
                await EgressWire.RespondAsync(client, 400, "Bad Request", "browser_error: the egress proxy could not read the request.");
                return;
            }

            if (Authenticate(request.Header("Proxy-Authorization")) is not { } session)
            {
                await EgressWire.RespondAsync(client, 407, "Proxy Authentication Required", "", "Proxy-Authenticate: Basic realm=\"anchor-egress\"\r\n");
                return;
            }

            using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, session.Closing);
            if (request.Method == "CONNECT")
            {
                await EgressTunnel.RunAsync(client, request, session, _upstream, lifetime.Token);
            }
            else
            {
                await EgressForwarder.ForwardAsync(client, request, session, _upstream, options, lifetime.Token);
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

    /// <summary>The key a failure is kept under: <c>host:port</c>, lower case.</summary>
    internal static string Authority(string host, int port) =>
        $"{host.Trim('[', ']').ToLowerInvariant()}:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

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

    public void Dispose()
    {
        lock (_gate)
        {
            _stopping.Cancel();
            _listener?.Stop();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Browser egress session closed: {BytesReceived} bytes received, {BytesSent} bytes sent, {Refused} connections refused")]
    private static partial void LogSessionClosed(ILogger logger, long bytesReceived, long bytesSent, long refused);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Browser egress connection failed")]
    private static partial void LogConnectionFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Browser egress session went past its byte budget ({Budget} bytes per minute); its connections were closed")]
    private static partial void LogBudgetSpent(ILogger logger, long budget);
}
