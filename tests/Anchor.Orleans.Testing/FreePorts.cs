using System.Net;
using System.Net.Sockets;

namespace Anchor.Orleans.Testing;

/// <summary>Loopback TCP ports that are free right now, for silos, gateways and servers started by tests.</summary>
public static class FreePorts
{
    private static readonly HashSet<int> Handed = [];

    /// <summary>A free port never handed out before in this process, so parallel fixtures do not collide.</summary>
    public static int Next()
    {
        lock (Handed)
        {
            for (var attempt = 0; attempt < 100; attempt++)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (Handed.Add(port))
                {
                    return port;
                }
            }

            throw new InvalidOperationException("No free loopback port found in 100 attempts.");
        }
    }
}
