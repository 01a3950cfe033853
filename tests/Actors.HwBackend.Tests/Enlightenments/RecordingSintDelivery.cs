using Actors.HwBackend.Enlightenments;

namespace Actors.HwBackend.Tests.Enlightenments;

/// <summary>Records what a SynIC raised at its "local APIC" and which vectors it made auto-EOI.</summary>
internal sealed class RecordingSintDelivery : ISintDelivery
{
    public List<byte> Delivered { get; } = [];

    public ulong[] AutoEoiVectors { get; } = new ulong[4];

    public void Deliver(byte vector) => Delivered.Add(vector);

    public void SetAutoEoiVectors(ReadOnlySpan<ulong> vectors) => vectors.CopyTo(AutoEoiVectors);

    public bool IsAutoEoi(byte vector) => (AutoEoiVectors[vector / 64] & (1UL << (vector % 64))) != 0;
}
