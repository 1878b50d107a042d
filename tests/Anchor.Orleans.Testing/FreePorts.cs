using System.Net;
using System.Net.Sockets;

namespace Anchor.Orleans.Testing;

/// <summary>Loopback TCP ports that are free right now, for silos, gateways and servers started by tests.</summary>
public static class FreePorts
{
    private static readonly HashSet<int> Handed = [];

    /// <summary>
    /// Ports below the kernel's ephemeral range (Linux: <c>ip_local_port_range</c>), picked at random. A port the
    /// kernel hands out itself (bind to 0) can be given again at once to any outgoing connection — a browser's, a
    /// Redis client's — before the test binds it ("address already in use"); below the range only listeners take ports.
    /// </summary>
    private static readonly (int Low, int High)? Range = PickRange();

    /// <summary>A free port never handed out before in this process, so parallel fixtures do not collide.</summary>
    public static int Next()
    {
        lock (Handed)
        {
            for (var attempt = 0; attempt < 200; attempt++)
            {
                var port = Range is { } range ? Random.Shared.Next(range.Low, range.High + 1) : 0;
                try
                {
                    using var listener = new TcpListener(IPAddress.Loopback, port);
                    listener.Start();
                    port = ((IPEndPoint)listener.LocalEndpoint).Port;
                }
                catch (SocketException)
                {
                    continue; // Taken: try another.
                }

                if (Handed.Add(port))
                {
                    return port;
                }
            }

            throw new InvalidOperationException("No free loopback port found in 200 attempts.");
        }
    }

    private static (int, int)? PickRange()
    {
        try
        {
            var bounds = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            var ephemeralLow = int.Parse(bounds[0], System.Globalization.CultureInfo.InvariantCulture);
            return ephemeralLow > 12_000 ? (ephemeralLow / 2, ephemeralLow - 1) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null; // Not Linux: let the system choose.
        }
    }
}
