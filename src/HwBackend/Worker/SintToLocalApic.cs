using Actors.HwBackend.Devices.Apic;
using Actors.HwBackend.Enlightenments;

namespace Actors.HwBackend.Worker;

/// <summary>A VP's SINTs wired to its local APIC device model: a fixed, edge-triggered interrupt each.</summary>
internal sealed class SintToLocalApic(LocalApic apic) : ISintDelivery
{
    public void Deliver(byte vector) => apic.Accept(vector, levelTriggered: false);

    public void SetAutoEoiVectors(ReadOnlySpan<ulong> vectors) => apic.SetAutoEoiVectors(vectors);
}
