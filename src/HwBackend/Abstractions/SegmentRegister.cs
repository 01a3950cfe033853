using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Abstractions;

/// <summary>
/// A segment register with its hidden (descriptor-cache) part, in the same shape as KVM's
/// <c>kvm_segment</c> so either backend can carry it unchanged.
/// </summary>
public record struct SegmentRegister(
    ushort Selector,
    ulong Base,
    uint Limit,
    byte Type,
    bool Present,
    byte Dpl,
    bool DefaultBig,
    bool CodeOrData,
    bool Long,
    bool Granularity,
    bool Available,
    bool Unusable)
{
    /// <summary>A real-mode segment: base = selector * 16, 64 KiB limit.</summary>
    public static SegmentRegister RealMode(ushort selector, bool code = false) =>
        new(selector, (ulong)selector << 4, 0xFFFF, code ? (byte)0xB : (byte)0x3, true, 0, false, true, false, false, false, false);

    /// <summary>A flat 4 GiB protected-mode segment.</summary>
    public static SegmentRegister Flat32(ushort selector, bool code) =>
        new(selector, 0, 0xFFFF_FFFF, code ? (byte)0xB : (byte)0x3, true, 0, true, true, false, true, false, false);

    /// <summary>A 64-bit code segment (L=1) or flat data segment for long mode.</summary>
    public static SegmentRegister Long64(ushort selector, bool code) =>
        code
            ? new(selector, 0, 0xFFFF_FFFF, 0xB, true, 0, false, true, true, true, false, false)
            : new(selector, 0, 0xFFFF_FFFF, 0x3, true, 0, true, true, false, true, false, false);

    public static SegmentRegister Null => new(0, 0, 0, 0, false, 0, false, false, false, false, false, true);

    /// <summary>Part of a vCPU's snapshot section.</summary>
    public readonly void Write(SnapshotSectionWriter writer)
    {
        writer.WriteUInt16(Selector);
        writer.WriteUInt64(Base);
        writer.WriteUInt32(Limit);
        writer.WriteByte(Type);
        writer.WriteBoolean(Present);
        writer.WriteByte(Dpl);
        writer.WriteBoolean(DefaultBig);
        writer.WriteBoolean(CodeOrData);
        writer.WriteBoolean(Long);
        writer.WriteBoolean(Granularity);
        writer.WriteBoolean(Available);
        writer.WriteBoolean(Unusable);
    }

    public static SegmentRegister Read(ref SnapshotSectionReader reader) => new(
        Selector: reader.ReadUInt16(),
        Base: reader.ReadUInt64(),
        Limit: reader.ReadUInt32(),
        Type: reader.ReadByte(),
        Present: reader.ReadBoolean(),
        Dpl: reader.ReadByte(),
        DefaultBig: reader.ReadBoolean(),
        CodeOrData: reader.ReadBoolean(),
        Long: reader.ReadBoolean(),
        Granularity: reader.ReadBoolean(),
        Available: reader.ReadBoolean(),
        Unusable: reader.ReadBoolean());
}
