using System.Text;

namespace Actors.HwBackend.Boot;

/// <summary>
/// The byte-level conventions ACPI and the MP specification share: checksums that make a
/// structure's bytes sum to zero, and fixed-width ASCII fields padded with spaces.
/// </summary>
internal static class FirmwareTableBytes
{
    /// <summary>
    /// Stores at <paramref name="checksumOffset"/> the byte that makes all of
    /// <paramref name="structure"/> sum to 0 mod 256; the checksum byte itself is part of the sum,
    /// so it is cleared first.
    /// </summary>
    public static void Checksum(Span<byte> structure, int checksumOffset)
    {
        structure[checksumOffset] = 0;
        structure[checksumOffset] = (byte)(0x100 - Sum(structure));
    }

    /// <summary>The sum of the bytes mod 256, which is 0 for a valid structure.</summary>
    public static byte Sum(ReadOnlySpan<byte> structure)
    {
        byte sum = 0;
        foreach (byte b in structure)
            sum += b;
        return sum;
    }

    /// <summary>
    /// Writes <paramref name="text"/> into the first <paramref name="width"/> bytes, padded with
    /// spaces: both specifications pad OEM and product IDs that way rather than with NULs.
    /// </summary>
    public static void Ascii(Span<byte> field, int width, string text)
    {
        if (text.Length > width)
            throw new ArgumentException($"'{text}' does not fit a {width}-character field", nameof(text));
        field[..width].Fill((byte)' ');
        Encoding.ASCII.GetBytes(text, field);
    }
}
