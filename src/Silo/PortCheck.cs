using System.Net;
using System.Net.Sockets;

namespace Actors.Silo;

/// <summary>
/// Refuses a silo or gateway port that another process listens on. Orleans binds its listeners with address
/// reuse, which on Linux also sets SO_REUSEPORT: a second silo would then share the first one's port and
/// form a cluster of its own behind it. A bind without reuse fails while any listener holds the port.
/// </summary>
internal static class PortCheck
{
    public static void EnsureFree(IPEndPoint endpoint, string option)
    {
        using var probe = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(endpoint);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new SiloConfigurationException($"{endpoint} is already in use (another silo?); choose another {option}");
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            throw new SiloConfigurationException($"{endpoint.Address} is not an address of this machine; give --listen one of its own");
        }
    }
}
