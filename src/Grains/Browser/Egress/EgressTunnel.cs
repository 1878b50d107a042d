using System.Net.Sockets;

namespace Anchor.Orleans.Grains.Browser.Egress;

/// <summary>
/// A CONNECT tunnel (https, ws, wss): checked and dialed for its host:port, then an opaque, counted pipe both ways,
/// bound to that host:port. A refused tunnel is answered 403, a failed one 502.
/// </summary>
internal static class EgressTunnel
{
    /// <summary>Serves one CONNECT until either side ends, the session closes or the silo stops.</summary>
    public static async Task RunAsync(NetworkStream client, EgressRequest request, EgressSession session, EgressUpstream upstream, CancellationToken cancellationToken)
    {
        if (!EgressProxy.TryAuthority(request.Target, out var host, out var port))
        {
            await EgressWire.RespondAsync(client, 400, "Bad Request", $"browser_error: '{request.Target}' is not a host:port.");
            return;
        }

        var authority = EgressProxy.Authority(host, port);
        if (session.OverBudget() is { } spent)
        {
            session.Fail(authority, spent.Message);
            await EgressWire.RespondAsync(client, 403, "Forbidden", spent.Message);
            return;
        }

        if (await upstream.DialAsync(client, host, port, tunnel: true, request.Target, session, cancellationToken) is not { } origin)
        {
            return;
        }

        await using (origin)
        {
            // Bound to the host:port just checked: the tunnel's bytes go to this upstream and nowhere else.
            await client.WriteAsync("HTTP/1.1 200 Connection Established\r\n\r\n"u8.ToArray(), cancellationToken);
            session.CountSent(request.Rest.Length);
            await origin.WriteAsync(request.Rest, cancellationToken);
            using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var up = EgressWire.CopyAsync(client, origin, session.CountSent, done.Token);
            var down = EgressWire.CopyAsync(origin, client, session.CountReceived, done.Token);
            await Task.WhenAny(up, down);
            await done.CancelAsync();
            await Task.WhenAll(up, down);
        }
    }
}
