using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Browser.Egress;
using Microsoft.Extensions.Logging.Abstractions;

namespace Anchor.Orleans.Grains.Tests.Browser;

/// <summary>
/// The egress proxy against a hostile origin that ignores <c>Connection: close</c>: it answers every request with a
/// Content-Length and keeps its connection open, reading the next request. The origin is allowed as
/// <c>localhost</c>; its literal address <c>127.0.0.1</c> is refused by the policy.
/// </summary>
public sealed class EgressKeepAliveTests : IAsyncLifetime
{
    private readonly BrowserOptions _options = new() { AllowedHosts = ["localhost"], MaxResponseBytes = 64 * 1024 };
    private readonly ConcurrentQueue<string> _requestLines = new();
    private readonly TcpListener _origin = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private EgressProxy _proxy = null!;

    private int OriginPort => ((IPEndPoint)_origin.LocalEndpoint).Port;

    public ValueTask InitializeAsync()
    {
        _origin.Start();
        _ = ServeOriginAsync();
        _proxy = new EgressProxy(new EgressDialer(EgressTestParts.Policy(_options)), new EgressTestParts.FixedOptions(_options), TimeProvider.System, NullLogger<EgressProxy>.Instance);
        _proxy.Start();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _proxy.Dispose();
        _origin.Stop();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task KeepAliveConnection_CannotCarryASecondRequest_ToAHostThePolicyForbids()
    {
        using var session = _proxy.Open([]);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _proxy.Address.Port, Ct);
        var stream = tcp.GetStream();

        await stream.WriteAsync(Request(session, $"http://localhost:{OriginPort}/first"), Ct);
        var first = await ReadResponseAsync(stream);
        await WriteQuietlyAsync(stream, Request(session, $"http://127.0.0.1:{OriginPort}/second"));
        var rest = await ReadToCloseAsync(stream);

        Assert.Equal(["GET /first HTTP/1.1"], _requestLines.ToArray());
        Assert.Equal("", rest); // The proxy closed the connection after the one response; the second request got nothing.
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", first, StringComparison.Ordinal);
        Assert.Contains("\r\nConnection: close\r\n", first, StringComparison.Ordinal);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static byte[] Request(EgressSession session, string url)
    {
        var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{session.UserName}:{session.Password}"));
        var uri = new Uri(url);
        return Encoding.ASCII.GetBytes($"GET {url} HTTP/1.1\r\nHost: {uri.Authority}\r\nProxy-Authorization: Basic {credentials}\r\nProxy-Connection: keep-alive\r\n\r\n");
    }

    /// <summary>One response: its head and its Content-Length body.</summary>
    private static async Task<string> ReadResponseAsync(NetworkStream stream)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromSeconds(20));
        var text = new StringBuilder();
        var buffer = new byte[4096];
        while (true)
        {
            var got = text.ToString();
            var end = got.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0 && got.Length - end - 4 >= 2)
            {
                return got;
            }

            var read = await stream.ReadAsync(buffer, limit.Token);
            if (read == 0)
            {
                return got;
            }

            text.Append(Encoding.Latin1.GetString(buffer, 0, read));
        }
    }

    /// <summary>Everything the proxy sends until it closes; what came by the deadline when it does not.</summary>
    private static async Task<string> ReadToCloseAsync(NetworkStream stream)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromSeconds(5));
        var text = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, limit.Token)) > 0)
            {
                text.Append(Encoding.Latin1.GetString(buffer, 0, read));
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            text.Append(ex is OperationCanceledException ? "(still open)" : "");
        }

        return text.ToString();
    }

    private static async Task WriteQuietlyAsync(NetworkStream stream, byte[] bytes)
    {
        try
        {
            await stream.WriteAsync(bytes, Ct);
        }
        catch (IOException)
        {
            // The proxy closed already: nothing was carried.
        }
    }

    /// <summary>Answers each request on a connection with "ok" and a Content-Length, and keeps reading: a keep-alive origin that ignores Connection: close.</summary>
    private async Task ServeOriginAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _origin.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                await using var stream = new NetworkStream(socket, ownsSocket: true);
                var pending = "";
                var buffer = new byte[4096];
                try
                {
                    int read;
                    while ((read = await stream.ReadAsync(buffer, _stop.Token)) > 0)
                    {
                        pending += Encoding.Latin1.GetString(buffer, 0, read);
                        int end;
                        while ((end = pending.IndexOf("\r\n\r\n", StringComparison.Ordinal)) >= 0)
                        {
                            _requestLines.Enqueue(pending[..pending.IndexOf("\r\n", StringComparison.Ordinal)]);
                            pending = pending[(end + 4)..];
                            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"u8.ToArray(), _stop.Token);
                        }
                    }
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
                {
                    // The proxy closed the connection, or the test ended.
                }
            });
        }
    }
}
