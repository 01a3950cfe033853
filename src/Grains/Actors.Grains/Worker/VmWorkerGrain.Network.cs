namespace Actors.Grains.Worker;

/// <summary>The worker's side of the VM's network adapters.</summary>
public sealed partial class VmWorkerGrain
{
    public Task DeliverFramesAsync(int nic, FrameBatch frames) =>
        throw new NotImplementedException("network adapters are being built");
}
