using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Actors.HwBackend.Network;

/// <summary>An Ethernet (MAC) address, written as six lower-case hex bytes joined by colons.</summary>
public readonly record struct MacAddress(ulong Value)
{
    /// <summary>Hyper-V's organisationally unique identifier, which its generated addresses start with.</summary>
    private const ulong HyperVPrefix = 0x00155D_000000;

    public const int Bytes = 6;

    /// <summary>
    /// The address a VM's adapter gets when the user names none: Hyper-V's prefix and three bytes of a
    /// hash of the VM's name and the adapter's index, so it is the same on every host and after a move.
    /// </summary>
    public static MacAddress For(string vm, int nic)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{vm}/{nic}"), hash);
        return new MacAddress(HyperVPrefix | ((ulong)hash[0] << 16) | ((ulong)hash[1] << 8) | hash[2]);
    }

    public static MacAddress Read(ReadOnlySpan<byte> bytes) =>
        new(((ulong)BinaryPrimitives.ReadUInt16BigEndian(bytes) << 32) | BinaryPrimitives.ReadUInt32BigEndian(bytes[2..]));

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
