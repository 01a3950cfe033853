using System.Buffers.Binary;
using System.Globalization;

namespace Actors.HwBackend.Network;

/// <summary>An Ethernet (MAC) address, written as six lower-case hex bytes joined by colons.</summary>
public readonly record struct MacAddress(ulong Value)
{
    public const int Bytes = 6;

    /// <summary>The address in the first six bytes of <paramref name="bytes"/>: a frame's destination, or (six bytes in) its source.</summary>
    public static MacAddress Read(ReadOnlySpan<byte> bytes) =>
        new(((ulong)BinaryPrimitives.ReadUInt16BigEndian(bytes) << 32) | BinaryPrimitives.ReadUInt32BigEndian(bytes[2..]));

    /// <summary>Reads "00:15:5d:01:02:03" (either case).</summary>
    public static bool TryParse(string? text, out MacAddress address)
    {
        address = default;
        string[] parts = text?.Split(':') ?? [];
        if (parts.Length != Bytes)
            return false;
        ulong value = 0;
        foreach (string part in parts)
        {
            if (part.Length != 2 || !byte.TryParse(part, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
                return false;
            value = (value << 8) | b;
        }
        address = new MacAddress(value);
        return true;
    }

    /// <summary>A group (multicast or broadcast) address: the low bit of its first byte.</summary>
    public bool IsGroup => (Value & (1UL << 40)) != 0;

    public bool IsBroadcast => Value == 0xFFFF_FFFF_FFFF;

    public void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)(Value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(bytes[2..], (uint)Value);
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Bytes];
        Write(bytes);
        return string.Join(':', bytes.ToArray().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
    }
}
