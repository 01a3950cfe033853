using System.Net.Sockets;
using Actors.Silo;
using Microsoft.Extensions.Hosting;

SiloSettings settings;
IHost host;
try
{
    settings = SiloCommandLine.Parse(args, Environment.GetEnvironmentVariable);
    host = ActorsSilo.Build(settings);
}
catch (SiloConfigurationException e)
{
    Console.Error.WriteLine($"Actors.Silo: {e.Message}");
    return 2;
}

try
{
    PrimaryRestartGuard.CheckPrimaryStart(settings);
}
catch (SiloConfigurationException e)
{
    Console.Error.WriteLine($"Actors.Silo: {e.Message}");
    return 2;
}

try
{
    await host.StartAsync();
}
catch (SiloConfigurationException e)
{
    // Found only while starting, such as a health port in use.
    Console.Error.WriteLine($"Actors.Silo: {e.Message}");
    return 2;
}
catch (Exception e) when (AddressInUse(e))
{
    Console.Error.WriteLine("Actors.Silo: a silo or gateway port is already in use; choose others with --silo-port/--gateway-port");
    return 2;
}
catch (Exception e)
{
    // Orleans has logged the details; the user gets the likely causes in one line. The host is not stopped
    // gracefully: a silo that never joined has nothing to hand over, and its shutdown can wait on the cluster.
    string membership = settings.Redis is null ? $"the first silo at {settings.PrimaryEndpoint}" : $"Redis at {settings.Redis}";
    Console.Error.WriteLine(
        $"Actors.Silo: could not join the cluster ({e.GetType().Name}): is {membership} reachable, and does the cluster trust this silo's certificate (and it the cluster's)?");
    return 1;
}

using (PrimaryRestartGuard.Joined(settings))
    await host.WaitForShutdownAsync();
host.Dispose();
return 0;

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
