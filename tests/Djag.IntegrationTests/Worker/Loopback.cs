using System.Net;
using System.Net.Sockets;

namespace Djag.IntegrationTests.Worker;

internal static class Loopback
{
    /// <summary>A loopback port that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
