using System.Net;
using System.Net.Sockets;

namespace Actors.Client;

/// <summary>Free TCP ports on loopback, for silos a tool or test starts on this machine.</summary>
public static class LoopbackPorts
{
    /// <summary>Ports nobody listens on now; all listeners stay open until every port is chosen, so none repeats.</summary>
    public static int[] Free(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (TcpListener listener in listeners)
                listener.Stop();
        }
    }
}
