using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Tests.Snapshots;

/// <summary>A section with one field of every kind the writer has, to test the format without a machine.</summary>
internal sealed record ProbeSection(byte Byte, bool Flag, ushort Word, uint Dword, int Signed, ulong Qword, long SignedQword, byte[] Fixed, byte[] Variable, uint[] Dwords, ulong[] Qwords)
    : ISnapshotSection<ProbeSection>
{
    public const int FixedLength = 5;
    public const int DwordCount = 3;
    public const int QwordCount = 2;

    public static ushort SnapshotVersion => 2;

    public static ProbeSection Sample => new(0xAB, true, 0xBEEF, 0xDEAD_BEEF, -7, 0x0123_4567_89AB_CDEF, long.MinValue, [1, 2, 3, 4, 5], [9, 8, 7], [10, 20, 30], [ulong.MaxValue, 0]);

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteByte(Byte);
        writer.WriteBoolean(Flag);
        writer.WriteUInt16(Word);
        writer.WriteUInt32(Dword);
        writer.WriteInt32(Signed);
        writer.WriteUInt64(Qword);
        writer.WriteInt64(SignedQword);
        writer.WriteBytes(Fixed, FixedLength);
        writer.WriteByteArray(Variable);
        writer.WriteUInt32s(Dwords, DwordCount);
        writer.WriteUInt64s(Qwords, QwordCount);
    }

    public static ProbeSection Read(ref SnapshotSectionReader reader, ushort version) => new(
        reader.ReadByte(),
        reader.ReadBoolean(),
        reader.ReadUInt16(),
        reader.ReadUInt32(),
        reader.ReadInt32(),
        reader.ReadUInt64(),
        reader.ReadInt64(),
        reader.ReadBytes(FixedLength),
        reader.ReadByteArray(),
        reader.ReadUInt32s(DwordCount),
        reader.ReadUInt64s(QwordCount));

    /// <summary>Field-wise, since a record compares arrays by reference.</summary>
    public bool SameAs(ProbeSection other) =>
        (Byte, Flag, Word, Dword, Signed, Qword, SignedQword) == (other.Byte, other.Flag, other.Word, other.Dword, other.Signed, other.Qword, other.SignedQword)
        && Fixed.SequenceEqual(other.Fixed) && Variable.SequenceEqual(other.Variable) && Dwords.SequenceEqual(other.Dwords) && Qwords.SequenceEqual(other.Qwords);
}
