using Actors.HwBackend.VmBus;

namespace Actors.HwBackend.Tests.VmBus;

/// <summary>A one-VP guest for a channel under test: it takes every message and counts the channel's signals.</summary>
internal sealed class SignalCounter : IVmBusGuest
{
    public int Signals { get; private set; }

    public int ProcessorCount => 1;

    public bool PostMessage(uint vp, int sint, ReadOnlySpan<byte> message) => true;

    public void SignalChannel(uint vp, int sint, uint relid) => Signals++;
}
