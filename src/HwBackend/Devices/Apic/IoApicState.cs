using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Devices.Apic;

/// <summary>The guest-visible state of an <see cref="IoApic"/>, for save/restore and live migration.</summary>
public sealed record IoApicState : ISnapshotSection<IoApicState>
{
    public static ushort SnapshotVersion => 1;

    /// <summary>The ID register (bits 27:24 hold the ID).</summary>
    public uint Id { get; init; }

    /// <summary>IOREGSEL: the register IOWIN accesses.</summary>
    public byte RegisterSelect { get; init; }

    /// <summary>The 24 redirection entries, including their read-only remote IRR bits.</summary>
    public ulong[] Redirection { get; init; } = [];

    /// <summary>Electrical levels of the 24 input pins, bit n for pin n.</summary>
    public uint PinLevels { get; init; }

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteUInt32(Id);
        writer.WriteByte(RegisterSelect);
        writer.WriteUInt64s(Redirection, IoApic.PinCount);
        writer.WriteUInt32(PinLevels);
    }

    public static IoApicState Read(ref SnapshotSectionReader reader, ushort version) => new()
    {
        Id = reader.ReadUInt32(),
        RegisterSelect = reader.ReadByte(),
        Redirection = reader.ReadUInt64s(IoApic.PinCount),
        PinLevels = reader.ReadUInt32(),
    };
}
