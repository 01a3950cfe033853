using System.Buffers.Binary;
using Actors.HwBackend.Memory;

namespace Actors.HwBackend.VmBus;

/// <summary>
/// One direction of an open channel: a ring buffer in guest pages lent by a GPADL. Its first page
/// is the header (write index @0, read index @4, interrupt mask @8, pending send size @12, feature
/// bits @64); the data follows on the next pages, and the indices are byte offsets into the data.
/// Packets are a 16-byte descriptor (type, data offset / 8, length / 8, flags, transaction id), the
/// data, padding to 8 bytes, and an 8-byte trailer. The guest owns one index and we own the other,
/// and a guest may write anything into either, so every index and length is checked against the
/// ring before it is used: a ring that breaks the rules is <see cref="Broken"/>, and nothing more
/// is read from or written to it. Host-side reads and writes go through the memory map, so they
/// mark pages dirty for live migration.
/// </summary>
public sealed class VmBusRing
{
    public const int DescriptorBytes = 16;
    private const int TrailerBytes = 8;
    private const int WriteIndexOffset = 0, ReadIndexOffset = 4, InterruptMaskOffset = 8;

    private readonly GuestPhysicalMap _memory;
    private readonly ulong[] _pages; // the header page, then the data pages

    /// <param name="pages">Guest page frame numbers: the header page, then the data pages (at least one).</param>
    public VmBusRing(GuestPhysicalMap memory, ReadOnlySpan<ulong> pages)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (pages.Length < 2)
            throw new ArgumentException("a ring needs a header page and at least one data page", nameof(pages));
        _memory = memory;
        _pages = pages.ToArray();
        DataBytes = (uint)(_pages.Length - 1) * GuestRam.PageSize;
    }

    public uint DataBytes { get; }

    /// <summary>Set once the guest has put the ring in a state no well-behaved writer or reader could: an index outside the data, unaligned, or a packet that does not fit.</summary>
    public string? Broken { get; private set; }

    /// <summary>Whether the guest masked this ring's interrupts (it is draining it and will look again itself).</summary>
    public bool InterruptMasked => ReadHeader(InterruptMaskOffset) != 0;

    /// <summary>
    /// Reads the next packet the guest wrote, if there is one, into <paramref name="packet"/>
    /// (descriptor and data, without the trailer) and consumes it. A packet larger than the buffer
    /// is consumed and dropped (<see cref="Dropped"/>), so that one oversized packet cannot stall
    /// the ring. Returns the length read, 0 when the ring is empty, or -1 when it is broken.
    /// </summary>
    public int TryRead(Span<byte> packet)
    {
        Span<byte> descriptor = stackalloc byte[DescriptorBytes];
        while (true)
        {
            if (Broken is not null || !TryIndices(out uint write, out uint read))
                return -1;
            if (write == read)
                return 0;
            uint available = write > read ? write - read : DataBytes - read + write;
            if (available < DescriptorBytes + TrailerBytes)
                return Break($"{available} bytes between the indices cannot hold a packet");
            ReadData(read, descriptor);
            uint dataOffset = BinaryPrimitives.ReadUInt16LittleEndian(descriptor[2..]) * 8u;
            uint length = BinaryPrimitives.ReadUInt16LittleEndian(descriptor[4..]) * 8u;
            if (dataOffset < DescriptorBytes || length < dataOffset || length + TrailerBytes > available)
                return Break($"a packet of {length} bytes with data at {dataOffset} does not fit the {available} bytes written");
            bool fits = length <= packet.Length;
            if (fits)
            {
                ReadData(read, packet[..(int)length]);
                descriptor.CopyTo(packet); // the descriptor checked above: another VP may have rewritten it since
            }
            else
                Dropped++;
            WriteHeader(ReadIndexOffset, (read + length + TrailerBytes) % DataBytes);
            if (fits)
                return (int)length;
        }
    }

    /// <summary>Packets consumed without being read because they were larger than the reader's buffer.</summary>
    public long Dropped { get; private set; }

    /// <summary>
    /// Writes one packet (type, transaction id, flags, and <paramref name="data"/> after a 16-byte
    /// descriptor) if there is room, leaving at least one byte free as the protocol requires.
    /// Returns whether it was written, and in <paramref name="signal"/> whether the guest must be
    /// told: it was empty before and the guest has not masked its interrupt.
    /// </summary>
    public bool TryWrite(ushort type, ushort flags, ulong transactionId, ReadOnlySpan<byte> data, out bool signal) =>
        TryWrite(type, flags, transactionId, [], data, out signal);

    /// <summary>
    /// As <see cref="TryWrite(ushort, ushort, ulong, ReadOnlySpan{byte}, out bool)"/>, with a
    /// type-specific <paramref name="header"/> (a multiple of 8 bytes) between the descriptor and the
    /// data, which the descriptor's data offset then skips: a transfer-page packet's page set and ranges.
    /// </summary>
    public bool TryWrite(ushort type, ushort flags, ulong transactionId, ReadOnlySpan<byte> header, ReadOnlySpan<byte> data, out bool signal)
    {
        signal = false;
        if ((header.Length & 7) != 0 || header.Length > 1024)
            throw new ArgumentException("a packet header is a multiple of 8 bytes, at most 1 KiB", nameof(header));
        if (Broken is not null || !TryIndices(out uint write, out uint read))
            return false;
        uint dataOffset = (uint)(DescriptorBytes + header.Length);
        uint length = (uint)(dataOffset + ((data.Length + 7) & ~7));
        uint free = read > write ? read - write : DataBytes - write + read;
        if (length + TrailerBytes >= free || length > ushort.MaxValue * 8u)
            return false;
        Span<byte> descriptor = stackalloc byte[DescriptorBytes];
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor, type);
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor[2..], (ushort)(dataOffset / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor[4..], (ushort)(length / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor[6..], flags);
        BinaryPrimitives.WriteUInt64LittleEndian(descriptor[8..], transactionId);
        WriteData(write, descriptor);
        WriteData((write + DescriptorBytes) % DataBytes, header);
        WriteData((write + dataOffset) % DataBytes, data);
        Span<byte> padding = stackalloc byte[8];
        WriteData((write + dataOffset + (uint)data.Length) % DataBytes, padding[..(int)(length - dataOffset - (uint)data.Length)]);
        // The trailer: where this packet started, in the high half, as Linux's writers leave it.
        Span<byte> trailer = stackalloc byte[TrailerBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(trailer, (ulong)write << 32);
        WriteData((write + length) % DataBytes, trailer);
        Interlocked.MemoryBarrier(); // the packet before the index that publishes it
        WriteHeader(WriteIndexOffset, (write + length + TrailerBytes) % DataBytes);
        // Whether the ring was empty is read after the new index is out: a reader that emptied it
        // meanwhile and went to sleep, having looked before the index moved, must still be woken.
        Interlocked.MemoryBarrier();
        signal = !InterruptMasked && ReadHeader(ReadIndexOffset) == write;
        return true;
    }

    /// <summary>Reads both indices; false (and broken) when either is outside the data or not 8-byte aligned.</summary>
    private bool TryIndices(out uint write, out uint read)
    {
        write = ReadHeader(WriteIndexOffset);
        read = ReadHeader(ReadIndexOffset);
        Interlocked.MemoryBarrier(); // the other side's index before the data it published
        if (write < DataBytes && read < DataBytes && (write & 7) == 0 && (read & 7) == 0)
            return true;
        Break($"write index {write} or read index {read} is outside the {DataBytes}-byte ring or unaligned");
        return false;
    }

    private int Break(string why)
    {
        Broken ??= why;
        return -1;
    }

    private uint ReadHeader(int offset) => _memory.ReadValue<uint>((_pages[0] * GuestRam.PageSize) + (ulong)offset);

    private void WriteHeader(int offset, uint value) => _memory.WriteValue(_pages[0] * GuestRam.PageSize + (ulong)offset, value);

    private void ReadData(uint offset, Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            uint at = (offset + (uint)done) % DataBytes;
            int chunk = Math.Min(destination.Length - done, GuestRam.PageSize - (int)(at % GuestRam.PageSize));
            _memory.Read(DataAddress(at), destination.Slice(done, chunk));
            done += chunk;
        }
    }

    private void WriteData(uint offset, ReadOnlySpan<byte> source)
    {
        int done = 0;
        while (done < source.Length)
        {
            uint at = (offset + (uint)done) % DataBytes;
            int chunk = Math.Min(source.Length - done, GuestRam.PageSize - (int)(at % GuestRam.PageSize));
            _memory.Write(DataAddress(at), source.Slice(done, chunk));
            done += chunk;
        }
    }

    private ulong DataAddress(uint offset) => (_pages[1 + (offset / GuestRam.PageSize)] * GuestRam.PageSize) + (offset % GuestRam.PageSize);
}
