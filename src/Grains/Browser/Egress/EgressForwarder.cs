using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Browser.Egress;

/// <summary>
/// A plain-HTTP request (absolute form): checked and dialed for its host, sent on as origin form with
/// <c>Connection: close</c> and only its own body, and its response passed back cut at <c>Browser:MaxResponseBytes</c>.
/// A refused or failed request is closed unanswered, since Chromium would show any answer as the origin's page.
/// </summary>
internal static class EgressForwarder
{
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

    /// <summary>Serves one plain-HTTP request: one request per connection, whatever else the browser sends is dropped.</summary>
    public static async Task ForwardAsync(NetworkStream client, EgressRequest request, EgressSession session, EgressUpstream upstream, IOptionsMonitor<BrowserOptions> options, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(request.Target, UriKind.Absolute, out var url) || url.Scheme != "http")
        {
            await EgressWire.RespondAsync(client, 400, "Bad Request", "browser_error: the egress proxy forwards absolute http:// requests and CONNECT tunnels only.");
            return;
        }

        if (url.IdnHost == EgressProxy.AuthProbe.IdnHost)
        {
            await EgressWire.RespondAsync(client, 204, "No Content", "");
            return;
        }

        if (request.Header("Transfer-Encoding") is not null || !EgressHead.TryContentLength(request.Headers, out var bodyLength))
        {
            // Chromium sends HTTP/1.1 bodies with a Content-Length; the proxy forwards nothing it cannot delimit.
            await EgressWire.RespondAsync(client, 411, "Length Required", "browser_error: the egress proxy forwards request bodies with one Content-Length only.");
            return;
        }

        var shown = Telemetry.AnchorTracing.SafeUrl(request.Target);
        var authority = EgressProxy.Authority(url.IdnHost, url.Port);
        if (session.OverBudget() is { } spent)
        {
            session.Fail(authority, spent.Message);
            return; // Closed unanswered.
        }

        if (await upstream.DialAsync(client, url.IdnHost, url.Port, tunnel: false, shown, session, cancellationToken) is not { } origin)
        {
            return;
        }

        await using (origin)
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
            await origin.WriteAsync(bytes, cancellationToken);
            session.CountSent(bytes.Length);

            // Only this request's own body follows it; bytes past it (a second request) are never forwarded.
            var early = (int)Math.Min(bodyLength, request.Rest.Length);
            await origin.WriteAsync(request.Rest.AsMemory(0, early), cancellationToken);
            session.CountSent(early);
            await EgressWire.CopyExactlyAsync(client, origin, bodyLength - early, session.CountSent, cancellationToken);

            using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var drained = EgressWire.DrainAsync(client, done);
            try
            {
                await RelayResponseAsync(client, origin, request, options.CurrentValue.MaxResponseBytes, shown, authority, session, done.Token);
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
    private static async Task RelayResponseAsync(NetworkStream client, NetworkStream upstream, EgressRequest request, long limit, string shown, string authority, EgressSession session, CancellationToken cancellationToken)
    {
        var pending = Array.Empty<byte>();
        EgressHead? head;
        int status;
        while (true)
        {
            head = await EgressHead.ReadAsync(upstream, pending, cancellationToken);
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
        var hasLength = EgressHead.TryContentLength(head.Headers, out var length) && head.Headers.Any(h => h.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase));
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
}
