namespace Actors.HwBackend.Storage;

/// <summary>
/// The mode pages MODE SENSE returns. Nothing can be changed (there is no MODE SELECT), so the
/// changeable values are all zero and the current ones are also the defaults.
/// </summary>
internal static class ModePages
{
    public const byte Caching = 0x08;
    public const byte Control = 0x0A;
    public const byte All = 0x3F;

    /// <summary>The most <see cref="Write"/> writes: every page, for page code 0x3F.</summary>
    public const int MaxLength = CachingLength + ControlLength;

    private const int CachingLength = 20, ControlLength = 12;

    /// <summary>
    /// Writes page <paramref name="code"/> (0x3F: all of them, in ascending order) and returns its
    /// length, or -1 for a page this disk does not have.
    /// </summary>
    public static int Write(byte code, bool changeable, Span<byte> into) => code switch
    {
        Caching => WriteCaching(changeable, into),
        Control => WriteControl(changeable, into),
        All => WriteCaching(changeable, into) + WriteControl(changeable, into[CachingLength..]),
        _ => -1,
    };

    /// <summary>
    /// Caching (SBC-3 6.4.5): WCE, because a write may sit in the host's page cache until a flush.
    /// Linux reads it to decide whether to send SYNCHRONIZE CACHE (and FUA, with DPOFUA) at all,
    /// so claiming write-through here would let a guest's fsync return before its data is stable.
    /// </summary>
    private static int WriteCaching(bool changeable, Span<byte> into)
    {
        Header(Caching, CachingLength, into);
        if (!changeable)
            into[2] = 0x04; // WCE, and RCD clear: the read cache is in use too
        return CachingLength;
    }

    /// <summary>
    /// Control (SPC-3 7.4.6): D_SENSE clear, so sense data is fixed format; queue algorithm
    /// modifier 1, as requests may run concurrently and overlapping ones in either order.
    /// </summary>
    private static int WriteControl(bool changeable, Span<byte> into)
    {
        Header(Control, ControlLength, into);
        if (!changeable)
            into[3] = 0x10;
        return ControlLength;
    }

    private static void Header(byte code, int length, Span<byte> into)
    {
        into[..length].Clear();
        into[0] = code; // PS clear: nothing is saved
        into[1] = (byte)(length - 2);
    }
}
