using Actors.HwBackend.Memory;

namespace Actors.HwBackend.VmBus;

/// <summary>
/// A buffer the guest lent a device through a GPADL besides the channel's rings (a network adapter's
/// receive and send buffers): <see cref="Length"/> bytes, starting at the GPADL's offset into its
/// first page. Callers keep their offsets within the length; the pages were all RAM when the GPADL
/// was made, and every access goes through the memory map, so it marks pages dirty for a move.
/// </summary>
public sealed class LentBuffer
{
    private readonly GuestPhysicalMap _memory;
    private readonly ulong[] _pages;
    private readonly int _start;

    private LentBuffer(GuestPhysicalMap memory, Gpadl gpadl)
    {
        _memory = memory;
        _pages = gpadl.Pages;
        _start = (int)gpadl.ByteOffset;
        Handle = gpadl.Handle;
        Length = (int)gpadl.ByteCount;
    }

    public uint Handle { get; }

    public int Length { get; }

    /// <summary>The buffer a GPADL describes, or null when its offset and byte count do not fit its pages (or pass 1 GiB).</summary>
    public static LentBuffer? From(GuestPhysicalMap memory, Gpadl gpadl)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(gpadl);
        ulong end = (ulong)gpadl.ByteOffset + gpadl.ByteCount;
        bool fits = gpadl.ByteOffset < GuestRam.PageSize && gpadl.ByteCount is > 0 and <= 1u << 30 && end <= (ulong)gpadl.Pages.Length * GuestRam.PageSize;
        return fits ? new LentBuffer(memory, gpadl) : null;
    }

    public void Read(int offset, Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            (ulong address, int chunk) = Locate(offset + done, destination.Length - done);
            _memory.Read(address, destination.Slice(done, chunk));
            done += chunk;
        }
    }

    public void Write(int offset, ReadOnlySpan<byte> source)
    {
        int done = 0;
        while (done < source.Length)
        {
            (ulong address, int chunk) = Locate(offset + done, source.Length - done);
            _memory.Write(address, source.Slice(done, chunk));
            done += chunk;
        }
    }

    private (ulong Address, int Chunk) Locate(int offset, int wanted)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + wanted, Length);
        int at = _start + offset;
        int inPage = at % GuestRam.PageSize;
        return ((_pages[at / GuestRam.PageSize] * GuestRam.PageSize) + (ulong)inPage, Math.Min(wanted, GuestRam.PageSize - inPage));
    }
}
