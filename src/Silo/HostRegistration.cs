using Actors.Grains;
using Orleans.Runtime;

namespace Actors.Silo;

/// <summary>Adds this silo's host to the host catalog once the silo can take calls, so placement can pick it.</summary>
internal sealed class HostRegistration(IGrainFactory grains, ILocalSiloDetails localSilo) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(HostRegistration), ServiceLifecycleStage.Active,
            _ => grains.GetGrain<IHostCatalogGrain>(0).RegisterAsync(localSilo.Name));
}
