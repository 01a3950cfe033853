namespace Actors.HwBackend.Snapshots;

/// <summary>
/// The layout of a machine snapshot, all integers little-endian:
/// <code>
/// header   magic "AVMS" | format version u16 | section count u16 | total length u32
/// section  id length u8 | id (ASCII) | version u16 | payload length u32 | payload
/// trailer  CRC-32C u32 of everything before it
/// </code>
/// The header carries the total length so that a cut-off snapshot is reported as truncated rather
/// than as damaged.
/// </summary>
internal static class SnapshotFormat
{
    public const ushort Version = 1;
    public const int HeaderSize = 12;
    public const int TrailerSize = 4;
    public const int MaxIdLength = 64;

    /// <summary>Id length, version and payload length ahead of a section's id and payload.</summary>
    public const int SectionOverhead = 1 + 2 + 4;

    public static ReadOnlySpan<byte> Magic => "AVMS"u8;

    public const int VersionOffset = 4;
    public const int SectionCountOffset = 6;
    public const int TotalLengthOffset = 8;

    /// <summary>Ids are lowercase words, digits, '-' and '/' (as in "lapic/3"), so that they print plainly in a refusal.</summary>
    public static bool IsValidId(ReadOnlySpan<char> id)
    {
        if (id.IsEmpty || id.Length > MaxIdLength)
            return false;
        foreach (char c in id)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '/'))
                return false;
        }
        return true;
    }
}
