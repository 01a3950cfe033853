using System.Net.Sockets;
using Actors.Silo;
using Microsoft.Extensions.Hosting;

try
{
    SiloSettings settings = SiloCommandLine.Parse(args, Environment.GetEnvironmentVariable);
    using IHost host = ActorsSilo.Build(settings);
    using PrimaryRestartGuard? guard = PrimaryRestartGuard.Enter(settings);
    await host.RunAsync();
    return 0;
}
catch (SiloConfigurationException e)
{
    Console.Error.WriteLine($"Actors.Silo: {e.Message}");
    return 2;
}
catch (Exception e) when (AddressInUse(e))
{
    Console.Error.WriteLine("Actors.Silo: a silo or gateway port is already in use; choose others with --silo-port/--gateway-port");
    return 2;
}

static bool AddressInUse(Exception? e)
{
    for (; e is not null; e = e.InnerException)
    {
        if (e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
            return true;
        if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(AddressInUse))
            return true;
    }

    return false;
}
