using System.Buffers.Binary;
using System.Globalization;

namespace Actors.Grains.Network;

/// <summary>
/// An Ethernet address as the switch compares it: its six bytes, first byte highest, in the low 48 bits
/// of a number, so that reading one from a frame and looking it up allocate nothing.
/// </summary>
internal readonly record struct MacAddress(ulong Value)
{
    private const int Bytes = 6;
    private const int SourceOffset = 6;

    /// <summary>The individual/group bit, the lowest bit of the first byte on the wire: broadcast and every multicast have it.</summary>
    public bool IsGroup => ((Value >> 40) & 1) != 0;

    /// <summary>The destination of <paramref name="frame"/> (bytes 0-5), which has at least an Ethernet header.</summary>
    public static MacAddress DestinationOf(ReadOnlySpan<byte> frame) => Read(frame);

    /// <summary>The source of <paramref name="frame"/> (bytes 6-11), which has at least an Ethernet header.</summary>
    public static MacAddress SourceOf(ReadOnlySpan<byte> frame) => Read(frame[SourceOffset..]);

    private static MacAddress Read(ReadOnlySpan<byte> address) =>
        new(((ulong)BinaryPrimitives.ReadUInt32BigEndian(address) << 16) | BinaryPrimitives.ReadUInt16BigEndian(address[4..]));

    /// <summary>Reads "00:15:5d:01:02:03" (either case), the form <see cref="SwitchPort.Mac"/> carries.</summary>
    public static bool TryParse(string? text, out MacAddress address)
    {
        address = default;
        if (text is not { Length: Bytes * 3 - 1 })
            return false;
        ulong value = 0;
        for (int i = 0; i < Bytes; i++)
        {
            if (i > 0 && text[i * 3 - 1] != ':')
                return false;
            if (!byte.TryParse(text.AsSpan(i * 3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte part))
                return false;
            value = (value << 8) | part;
        }

        address = new MacAddress(value);
        return true;
    }

    public override string ToString()
    {
        ulong value = Value;
        return string.Join(':', Enumerable.Range(0, Bytes).Select(i => ((byte)(value >> (8 * (Bytes - 1 - i)))).ToString("x2", CultureInfo.InvariantCulture)));
    }
}
