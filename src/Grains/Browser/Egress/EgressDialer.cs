using System.Net.Sockets;

namespace Anchor.Orleans.Grains.Browser.Egress;

/// <summary>
/// Opens every connection the browser's traffic makes (the egress proxy's): resolves the
/// host once with the one resolver, checks the answer with <see cref="UrlPolicy.VetAsync"/>, and connects to exactly
/// the addresses that passed — the address checked is the address used, whatever the name answers next.
/// </summary>
public sealed class EgressDialer(UrlPolicy policy)
{
    /// <summary>How long a TCP connect may take.</summary>
    public static readonly TimeSpan ConnectLimit = TimeSpan.FromSeconds(30);

    /// <summary>A connected socket to <paramref name="host"/>; throws <see cref="EgressFailure"/> when refused or unreachable.</summary>
    public async Task<Socket> ConnectAsync(string host, int port, IReadOnlyList<string>? clientAllowedHosts, CancellationToken cancellationToken)
    {
        var addresses = await policy.VetAsync(host, clientAllowedHosts, cancellationToken);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(ConnectLimit);
            await socket.ConnectAsync(addresses, port, limit.Token);
            return socket;
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
            throw EgressFailure.Failed($"{what} by {host}:{port}", abort);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw EgressFailure.Failed($"the connection timed out by {host}:{port}", "timedout");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
