namespace Actors.HwBackend.VmBus;

/// <summary>
/// The host's end of an offered device (a VSP): told when the guest opens and closes its channel,
/// and when the guest signals it (after writing to the guest-to-host ring). Called on the vCPU
/// thread that made the hypercall, so it does little and never blocks.
/// </summary>
public interface IVmBusDevice
{
    void Opened(IVmBusChannel channel);

    void Signalled(IVmBusChannel channel);

    void Closed();
}
