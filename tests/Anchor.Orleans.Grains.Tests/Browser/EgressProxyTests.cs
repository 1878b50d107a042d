using System.Net;
using System.Net.Sockets;
using System.Text;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Browser.Egress;
using Anchor.Orleans.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Anchor.Orleans.Grains.Tests.Browser;

/// <summary>
/// The egress proxy spoken to as a browser does (absolute-form HTTP and CONNECT), in front of a loopback origin that
/// counts what reaches it. The origin is allowed as <c>localhost</c> only, so its literal address is refused.
/// </summary>
public sealed class EgressProxyTests : IAsyncLifetime
{
    private const long MaxResponseBytes = 64 * 1024;

    private readonly BrowserOptions _options = new() { AllowedHosts = ["localhost"], MaxResponseBytes = MaxResponseBytes };
    private EgressProxy _proxy = null!;
    private LoopbackApp _origin = null!;
    private int _originPort;
    private int _hits;

    public async ValueTask InitializeAsync()
    {
        _origin = await LoopbackApp.StartAsync(app =>
        {
            app.Use((context, next) =>
            {
                Interlocked.Increment(ref _hits);
                return next(context);
            });
            app.MapGet("/hello", (HttpContext http) => Results.Text($"hello {http.Request.Headers.Host} {http.Request.Headers["Proxy-Authorization"].Count}"));
            app.MapGet("/big", () => Results.Bytes(new byte[MaxResponseBytes * 4], "application/octet-stream"));
            app.MapGet("/part", () => Results.Bytes(new byte[MaxResponseBytes / 2], "application/octet-stream"));
            app.MapGet("/endless", async (HttpContext http) =>
            {
                // No Content-Length: chunked, until the client goes away.
                var chunk = new byte[16 * 1024];
                while (!http.RequestAborted.IsCancellationRequested)
                {
                    await http.Response.Body.WriteAsync(chunk, http.RequestAborted);
                }
            });
        });
        _originPort = _origin.Port;
        _proxy = new EgressProxy(new EgressDialer(EgressTestParts.Policy(_options)), new EgressTestParts.FixedOptions(_options), TimeProvider.System, NullLogger<EgressProxy>.Instance);
        _proxy.Start();
    }

    public async ValueTask DisposeAsync()
    {
        _proxy.Dispose();
        await _origin.DisposeAsync();
    }

    /// <summary>A proxy with <paramref name="options"/>' byte budgets on a fake clock (2026-12-03 10:00:00 UTC).</summary>
    private static EgressProxy BudgetedProxy(BrowserOptions options, out Microsoft.Extensions.Time.Testing.FakeTimeProvider time)
    {
        time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero));
        return new EgressProxy(new EgressDialer(EgressTestParts.Policy(options)), new EgressTestParts.FixedOptions(options), time, NullLogger<EgressProxy>.Instance);
    }

    private HttpClient Through(EgressSession? session, EgressProxy? proxy = null) => new(new SocketsHttpHandler
    {
        Proxy = new WebProxy((proxy ?? _proxy).Address) { Credentials = session is null ? null : new NetworkCredential(session.UserName, session.Password) },
        UseProxy = true,
        PreAuthenticate = true,
    })
    {
        Timeout = TimeSpan.FromSeconds(20),
    };

    [Fact]
    public async Task AbsoluteFormRequest_ToAnAllowedHost_IsForwarded_WithoutProxyHeaders_AndCounted()
    {
        using var session = _proxy.Open([]);
        using var http = Through(session);

        var body = await http.GetStringAsync($"http://localhost:{_originPort}/hello", TestContext.Current.CancellationToken);

        Assert.Equal($"hello localhost:{_originPort} 0", body);
        Assert.Equal(1, _hits);
        Assert.True(session.BytesReceived > body.Length, $"{session.BytesReceived} bytes received");
        Assert.True(session.BytesSent > 0);
    }

    [Fact]
    public async Task Request_WithoutOrWithWrongCredentials_Gets407_AndReachesNothing()
    {
        using var session = _proxy.Open([]);
        using var anonymous = Through(null);
        using var stranger = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy(_proxy.Address) { Credentials = new NetworkCredential(session.UserName, "wrong") } });

        using var none = await anonymous.GetAsync($"http://localhost:{_originPort}/hello", TestContext.Current.CancellationToken);
        using var wrong = await stranger.GetAsync($"http://localhost:{_originPort}/hello", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ProxyAuthenticationRequired, none.StatusCode);
        Assert.Equal(HttpStatusCode.ProxyAuthenticationRequired, wrong.StatusCode);
        Assert.Equal(0, _hits);
    }

    [Fact]
    public async Task ClosedSession_CredentialsNoLongerWork()
    {
        var session = _proxy.Open([]);
        using var http = Through(session);
        session.Dispose();

        using var response = await http.GetAsync($"http://localhost:{_originPort}/hello", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ProxyAuthenticationRequired, response.StatusCode);
        Assert.Equal(0, _hits);
    }

    [Fact]
    public async Task AbsoluteFormRequest_ToALoopbackAddress_IsClosedUnanswered_AndReachesNothing()
    {
        using var session = _proxy.Open([]);

        var answer = await SendAsync(session, $"GET http://127.0.0.1:{_originPort}/hello?token=x HTTP/1.1", $"127.0.0.1:{_originPort}");

        Assert.Equal("", answer);
        Assert.Equal(0, _hits);
        Assert.Equal(1, session.Refused);
        Assert.Equal($"url_blocked: http://127.0.0.1:{_originPort}/hello refused: host '127.0.0.1' resolves to a loopback address (127.0.0.1).", session.LastFailure?.Message);
    }

    [Fact]
    public async Task ClientAllowedHosts_ComeFromTheSession()
    {
        using var session = _proxy.Open(["127.0.0.1"]);
        using var http = Through(session);

        var body = await http.GetStringAsync($"http://127.0.0.1:{_originPort}/hello", TestContext.Current.CancellationToken);

        Assert.Equal($"hello 127.0.0.1:{_originPort} 0", body);
    }

    [Fact]
    public async Task Connect_ToALoopbackAddress_Is403_AndToAnAllowedHost_Tunnels()
    {
        using var session = _proxy.Open([]);

        var refused = await SendAsync(session, $"CONNECT 127.0.0.1:{_originPort} HTTP/1.1", $"127.0.0.1:{_originPort}");
        var tunnelled = await SendAsync(session, $"CONNECT localhost:{_originPort} HTTP/1.1", $"localhost:{_originPort}", $"GET /hello HTTP/1.1\r\nHost: localhost:{_originPort}\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", refused, StringComparison.Ordinal);
        Assert.EndsWith($"url_blocked: 127.0.0.1:{_originPort} refused: host '127.0.0.1' resolves to a loopback address (127.0.0.1).", refused, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200 Connection Established\r\n\r\nHTTP/1.1 200 OK\r\n", tunnelled, StringComparison.Ordinal);
        Assert.EndsWith($"hello localhost:{_originPort} 0", tunnelled, StringComparison.Ordinal);
        Assert.Equal(1, _hits);
    }

    [Fact]
    public async Task Response_WhoseContentLengthIsPastMaxResponseBytes_IsRefusedUnanswered()
    {
        using var session = _proxy.Open([]);

        var answer = await SendAsync(session, $"GET http://localhost:{_originPort}/big?token=x HTTP/1.1", $"localhost:{_originPort}");

        Assert.Equal("", answer);
        Assert.Equal(1, _hits);
        Assert.Equal($"browser_error: page exceeded Browser:MaxResponseBytes: the response of http://localhost:{_originPort}/big is larger than {MaxResponseBytes} bytes and was cut off.", session.LastFailure?.Message);
        Assert.InRange(session.BytesReceived, 1, EgressProxy.MaxHeadBytes); // The head, and at most what came with it in one read.
        Assert.Null(session.TakeOverrun()); // Nothing of it reached the page: the request failed, the page is not cut.
    }

    [Fact]
    public async Task EndlessResponse_IsCutAtMaxResponseBytes_WithAReset_AndReportedOnce()
    {
        using var session = _proxy.Open([]);
        using var http = Through(session);

        var cut = await Assert.ThrowsAnyAsync<Exception>(() => http.GetByteArrayAsync($"http://localhost:{_originPort}/endless", TestContext.Current.CancellationToken));

        Assert.True(cut is HttpRequestException or IOException, cut.ToString());
        Assert.InRange(session.BytesReceived, MaxResponseBytes, MaxResponseBytes + (64 * 1024));
        var overrun = session.TakeOverrun();
        Assert.Equal($"browser_error: page exceeded Browser:MaxResponseBytes: the response of http://localhost:{_originPort}/endless is larger than {MaxResponseBytes} bytes and was cut off.", overrun?.Message);
        Assert.Null(session.TakeOverrun());
    }

    [Fact]
    public async Task SessionPastItsBytesPerMinute_HasItsConnectionsRefused_UntilTheMinuteIsOver()
    {
        var options = new BrowserOptions { AllowedHosts = ["localhost"], MaxResponseBytes = MaxResponseBytes, MaxSessionBytesPerMinute = 4 * MaxResponseBytes };
        using var proxy = BudgetedProxy(options, out var time);
        using var session = proxy.Open([]);
        using var http = Through(session, proxy);
        var url = $"http://localhost:{_originPort}/part";

        var served = await FetchUntilCutAsync(http, url, 10);

        var hitsWhenSpent = _hits;
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetByteArrayAsync(url, TestContext.Current.CancellationToken));
        var overrun = session.TakeOverrun();
        var hitsAfterRefusal = _hits;
        time.Advance(EgressSession.Window);
        var again = await http.GetByteArrayAsync(url, TestContext.Current.CancellationToken);

        Assert.Equal(7, served); // 7 × 32 KB and their heads fit in 128 KB; the 8th went past it and was closed.
        Assert.Equal(hitsWhenSpent, hitsAfterRefusal); // Refused without dialing.
        Assert.Equal($"browser_error: page exceeded Browser:MaxSessionBytesPerMinute ({4 * MaxResponseBytes} bytes received within a minute); the session's connections were closed and new ones are refused for a minute.", overrun?.Message);
        Assert.Equal(overrun, session.LastFailure);
        Assert.Null(session.TakeOverrun());
        Assert.Equal(MaxResponseBytes / 2, again.Length);
    }

    [Fact]
    public async Task SessionBudget_SlidesByTheSecond_SoBytesOnBothSidesOfAMinutesEndCountTogether()
    {
        var options = new BrowserOptions { AllowedHosts = ["localhost"], MaxResponseBytes = MaxResponseBytes, MaxSessionBytesPerMinute = 4 * MaxResponseBytes };
        using var proxy = BudgetedProxy(options, out var time);
        using var session = proxy.Open([]);
        using var http = Through(session, proxy);
        var url = $"http://localhost:{_originPort}/part";

        time.Advance(TimeSpan.FromSeconds(50));
        var early = await FetchUntilCutAsync(http, url, 4);
        time.Advance(TimeSpan.FromSeconds(20)); // Past the minute the session opened in: a fixed window started again here.
        var late = await FetchUntilCutAsync(http, url, 10);
        var overrun = session.TakeOverrun();
        time.Advance(TimeSpan.FromSeconds(41)); // The early four left the minute, but the session is refused for a minute from its cut.
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetByteArrayAsync(url, TestContext.Current.CancellationToken));
        time.Advance(TimeSpan.FromSeconds(20));
        var again = await FetchUntilCutAsync(http, url, 7);

        Assert.Equal(4, early);
        Assert.Equal(3, late); // 4 + 3 × 32 KB and their heads fit in 256 KB within 20 s; the 8th went past it.
        Assert.StartsWith("browser_error: page exceeded Browser:MaxSessionBytesPerMinute", overrun?.Message, StringComparison.Ordinal);
        Assert.Equal(7, again); // A minute after the cut the session starts afresh.
        Assert.Null(session.TakeOverrun());
    }

    [Fact]
    public async Task SessionPastItsShareOfTheSiloBudget_IsCutOff_WhileASessionWithinItsShareKeepsGoing()
    {
        // Each session could take 8 × 64 KB alone; the silo's 4 × 64 KB shared by two sessions is 128 KB each.
        var options = new BrowserOptions { AllowedHosts = ["localhost"], MaxResponseBytes = MaxResponseBytes, MaxSessionBytesPerMinute = 8 * MaxResponseBytes, MaxSiloBytesPerMinute = 4 * MaxResponseBytes };
        using var proxy = BudgetedProxy(options, out var time);
        using var heavy = proxy.Open([]);
        using var light = proxy.Open([]);
        using var heavyHttp = Through(heavy, proxy);
        using var lightHttp = Through(light, proxy);
        var url = $"http://localhost:{_originPort}/part";

        var served = await FetchUntilCutAsync(heavyHttp, url, 20);

        var heavyRefused = await Assert.ThrowsAsync<HttpRequestException>(() => heavyHttp.GetByteArrayAsync(url, TestContext.Current.CancellationToken));
        var lightServed = await lightHttp.GetByteArrayAsync(url, TestContext.Current.CancellationToken);
        var overrun = heavy.TakeOverrun();
        time.Advance(EgressSession.Window);
        var heavyAgain = await heavyHttp.GetByteArrayAsync(url, TestContext.Current.CancellationToken);

        Assert.Equal(7, served); // 7 × 32 KB and their heads fit in the silo's 256 KB; the 8th went past it (and past the 128 KB share).
        Assert.Equal(MaxResponseBytes / 2, lightServed.Length); // 32 KB is within the light session's share: it keeps going.
        Assert.Null(light.TakeOverrun());
        Assert.Equal($"browser_error: page exceeded its share of Browser:MaxSiloBytesPerMinute (the silo's sessions received more than {4 * MaxResponseBytes} bytes within a minute, this session more than its share of {2 * MaxResponseBytes}); the session's connections were closed and new ones are refused for a minute.", overrun?.Message);
        Assert.Equal(MaxResponseBytes / 2, heavyAgain.Length);
    }

    /// <summary>Fetches <c>/part</c> (half of <see cref="MaxResponseBytes"/>) until a connection is closed mid-body (a budget was spent) or <paramref name="most"/> were served; returns how many were served whole.</summary>
    private static async Task<int> FetchUntilCutAsync(HttpClient http, string url, int most)
    {
        var served = 0;
        while (served < most)
        {
            try
            {
                Assert.Equal(MaxResponseBytes / 2, (await http.GetByteArrayAsync(url, TestContext.Current.CancellationToken)).Length);
                served++;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                break;
            }
        }

        return served;
    }

    /// <summary>Sends <paramref name="requestLine"/> with the session's credentials (and then <paramref name="then"/>); returns everything the proxy answered until it closed.</summary>
    private async Task<string> SendAsync(EgressSession session, string requestLine, string authority, string? then = null)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _proxy.Address.Port, TestContext.Current.CancellationToken);
        var stream = tcp.GetStream();
        var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{session.UserName}:{session.Password}"));
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{requestLine}\r\nHost: {authority}\r\nProxy-Authorization: Basic {credentials}\r\n\r\n{then}"), TestContext.Current.CancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(20));
        return await reader.ReadToEndAsync(limit.Token);
    }
}
