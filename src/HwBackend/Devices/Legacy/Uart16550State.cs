using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>The guest-visible state of a <see cref="Uart16550"/>, for save/restore and live migration.</summary>
public sealed record Uart16550State(
    byte InterruptEnable,
    byte LineControl,
    byte ModemControl,
    byte Scratch,
    byte DivisorLow,
    byte DivisorHigh,
    byte FifoControl,
    byte LineStatusErrors,
    byte ModemStatusDeltas,
    bool TransmitInterruptPending,
    byte LastReceived,
    byte[] ReceiveQueue) : ISnapshotSection<Uart16550State>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteByte(InterruptEnable);
        writer.WriteByte(LineControl);
        writer.WriteByte(ModemControl);
        writer.WriteByte(Scratch);
        writer.WriteByte(DivisorLow);
        writer.WriteByte(DivisorHigh);
        writer.WriteByte(FifoControl);
        writer.WriteByte(LineStatusErrors);
        writer.WriteByte(ModemStatusDeltas);
        writer.WriteBoolean(TransmitInterruptPending);
        writer.WriteByte(LastReceived);
        writer.WriteByteArray(ReceiveQueue);
    }

    public static Uart16550State Read(ref SnapshotSectionReader reader, ushort version) => new(
        InterruptEnable: reader.ReadByte(),
        LineControl: reader.ReadByte(),
        ModemControl: reader.ReadByte(),
        Scratch: reader.ReadByte(),
        DivisorLow: reader.ReadByte(),
        DivisorHigh: reader.ReadByte(),
        FifoControl: reader.ReadByte(),
        LineStatusErrors: reader.ReadByte(),
        ModemStatusDeltas: reader.ReadByte(),
        TransmitInterruptPending: reader.ReadBoolean(),
        LastReceived: reader.ReadByte(),
        ReceiveQueue: reader.ReadByteArray());
}
