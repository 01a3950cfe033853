using System.Buffers.Binary;

namespace Actors.HwBackend.Snapshots;

/// <summary>
/// Reads one section's fields in the order its writer wrote them. Reading past the payload's end
/// is refused with a <see cref="SnapshotException"/> naming the section, never an index error, so
/// a state's <c>Read</c> needs no length checks of its own.
/// </summary>
public ref struct SnapshotSectionReader
{
    private readonly ReadOnlySpan<byte> _payload;
    private int _position;

    internal SnapshotSectionReader(string section, ushort version, ReadOnlySpan<byte> payload)
    {
        Section = section;
        Version = version;
        _payload = payload;
    }

    public readonly string Section { get; }

    public readonly ushort Version { get; }

    /// <summary>Payload bytes not read yet.</summary>
    public readonly int Remaining => _payload.Length - _position;

    public byte ReadByte() => Take(1)[0];

    /// <summary>A boolean is 0 or 1; any other byte means the section is not what its version says.</summary>
    public bool ReadBoolean()
    {
        int at = _position;
        byte value = ReadByte();
        return value switch
        {
            0 => false,
            1 => true,
            _ => throw Refuse($"byte {at} is {value}, where a boolean (0 or 1) belongs"),
        };
    }

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(sizeof(ushort)));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(sizeof(uint)));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(sizeof(int)));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(sizeof(ulong)));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(sizeof(long)));

    /// <summary>Exactly <paramref name="count"/> bytes, as <see cref="SnapshotSectionWriter.WriteBytes"/> wrote them.</summary>
    public byte[] ReadBytes(int count) => Take(count).ToArray();

    /// <summary>A byte array behind its 32-bit length; the length cannot exceed what the payload holds.</summary>
    public byte[] ReadByteArray()
    {
        int at = _position;
        int length = ReadInt32();
        if (length < 0)
            throw Refuse($"the byte array at byte {at} has length {length}");
        return ReadBytes(length);
    }

    public uint[] ReadUInt32s(int count)
    {
        ReadOnlySpan<byte> bytes = Take(count * sizeof(uint));
        var values = new uint[count];
        for (int i = 0; i < values.Length; i++)
            values[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(i * sizeof(uint))..]);
        return values;
    }

    public ulong[] ReadUInt64s(int count)
    {
        ReadOnlySpan<byte> bytes = Take(count * sizeof(ulong));
        var values = new ulong[count];
        for (int i = 0; i < values.Length; i++)
            values[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(i * sizeof(ulong))..]);
        return values;
    }

    /// <summary>A refusal of this section for <paramref name="problem"/>; the caller throws it.</summary>
    public readonly SnapshotException Refuse(string problem) => SnapshotException.InSection(Section, problem);

    private ReadOnlySpan<byte> Take(int length)
    {
        if (length < 0 || length > Remaining)
        {
            throw Refuse($"its version {Version} payload of {_payload.Length} bytes is truncated: "
                + $"a field at byte {_position} needs {length}, {Remaining} remain");
        }
        ReadOnlySpan<byte> span = _payload.Slice(_position, length);
        _position += length;
        return span;
    }
}
