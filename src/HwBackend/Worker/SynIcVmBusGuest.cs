using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.VmBus;

namespace Actors.HwBackend.Worker;

/// <summary>VMBus's way into a VM on this host: a VMBus message (HV message type 1) into the target VP's SynIC.</summary>
internal sealed class SynIcVmBusGuest(SyntheticInterruptController[] synIcs) : IVmBusGuest
{
    public int ProcessorCount => synIcs.Length;

    public bool PostMessage(uint vp, int sint, ReadOnlySpan<byte> message) =>
        vp < (uint)synIcs.Length && synIcs[vp].TryPostMessage(sint, HvMessageType.VmBus, sender: 0, message);

    public void SignalChannel(uint vp, int sint, uint relid)
    {
        if (vp < (uint)synIcs.Length && relid < SyntheticInterruptController.SlotBytes * 8)
            synIcs[vp].SignalEvent(sint, (int)relid);
    }
}
