using System.Net.Sockets;
using System.Text;

namespace Anchor.Orleans.Grains.Browser.Egress;

/// <summary>The proxy's byte moving: answers of its own, pumps that count what they carry, and the drain of what a browser sends past its request.</summary>
internal static class EgressWire
{
    /// <summary>Copies until either side ends, counting each chunk.</summary>
    public static async Task CopyAsync(Stream from, Stream to, Action<int> count, CancellationToken cancellationToken)
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
    public static async Task CopyExactlyAsync(Stream from, Stream to, long length, Action<int> count, CancellationToken cancellationToken)
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
    public static async Task DrainAsync(Stream client, CancellationTokenSource done)
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

    /// <summary>Answers the browser with a small plain-text response of the proxy's own, with <c>Connection: close</c>.</summary>
    public static async Task RespondAsync(NetworkStream client, int status, string reason, string body, string extraHeaders = "")
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var head = $"HTTP/1.1 {status} {reason}\r\n{extraHeaders}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
        using var limit = new CancellationTokenSource(EgressProxy.HeadLimit);
        await client.WriteAsync(Encoding.ASCII.GetBytes(head), limit.Token);
        await client.WriteAsync(bytes, limit.Token);
    }
}
