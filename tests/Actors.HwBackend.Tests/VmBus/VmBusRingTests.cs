using System.Buffers.Binary;
using Actors.HwBackend.Memory;
using Actors.HwBackend.VmBus;
using Xunit;

namespace Actors.HwBackend.Tests.VmBus;

public sealed class VmBusRingTests : IDisposable
{
    private const ulong MiB = 1 << 20;
    private const ulong HeaderPfn = 0x100;
    private const uint DataBytes = 2 * 4096;

    private readonly GuestRam _ram = new(4 * MiB);
    private readonly GuestPhysicalMap _memory;
    private readonly VmBusRing _ring;

    public VmBusRingTests()
    {
        _memory = new GuestPhysicalMap(_ram);
        _memory.AddRam("low", 0, 2 * MiB, 0);
        // Data pages out of order in guest memory, as a GPADL may lend them.
        _ring = new VmBusRing(_memory, [HeaderPfn, 0x180, 0x140]);
    }

    public void Dispose() => _ram.Dispose();

    private uint WriteIndex
    {
        get => _memory.ReadValue<uint>(HeaderPfn * 4096);
        set => _memory.WriteValue(HeaderPfn * 4096, value);
    }

    private uint ReadIndex
    {
        get => _memory.ReadValue<uint>((HeaderPfn * 4096) + 4);
        set => _memory.WriteValue((HeaderPfn * 4096) + 4, value);
    }

    private static ulong DataAddress(uint offset) => ((offset < 4096 ? 0x180UL : 0x140UL) * 4096) + (offset % 4096);

    /// <summary>What a guest writer does: descriptor, data padded to 8, trailer, then the write index.</summary>
    private void GuestWrites(ushort type, ulong transaction, byte[] data)
    {
        uint at = WriteIndex;
        int length = 16 + ((data.Length + 7) & ~7);
        var packet = new byte[length + 8];
        BinaryPrimitives.WriteUInt16LittleEndian(packet, type);
        BinaryPrimitives.WriteUInt16LittleEndian(packet.AsSpan(2), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(packet.AsSpan(4), (ushort)(length / 8));
        BinaryPrimitives.WriteUInt64LittleEndian(packet.AsSpan(8), transaction);
        data.CopyTo(packet, 16);
        for (int i = 0; i < packet.Length; i++)
            _memory.WriteValue(DataAddress((at + (uint)i) % DataBytes), packet[i]);
        WriteIndex = (at + (uint)packet.Length) % DataBytes;
    }

    [Fact]
    public void APacketTheGuestWroteIsReadAndConsumed()
    {
        GuestWrites(6, 42, [1, 2, 3, 4, 5]);
        var packet = new byte[64];
        Assert.Equal(24, _ring.TryRead(packet));
        Assert.Equal(42UL, BinaryPrimitives.ReadUInt64LittleEndian(packet.AsSpan(8)));
        Assert.Equal([1, 2, 3, 4, 5], packet[16..21]);
        Assert.Equal(32u, ReadIndex); // past the packet and its trailer
        Assert.Equal(0, _ring.TryRead(packet)); // empty
    }

    [Fact]
    public void PacketsWrapAroundTheEndOfTheRingAndAcrossPages()
    {
        (WriteIndex, ReadIndex) = (DataBytes - 16, DataBytes - 16);
        GuestWrites(6, 7, [.. Enumerable.Range(0, 40).Select(i => (byte)i)]);
        var packet = new byte[64];
        Assert.Equal(56, _ring.TryRead(packet));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (byte)i), packet[16..56]);
        Assert.Equal(48u, ReadIndex);

        // And our writes wrap the same way, with the trailer after the padding.
        (WriteIndex, ReadIndex) = (DataBytes - 8, DataBytes - 8);
        Assert.True(_ring.TryWrite(6, 1, 99, [9, 9, 9], out bool signal));
        Assert.True(signal); // it was empty
        Assert.Equal(32u - 8, WriteIndex); // 16 + 8 + trailer 8, from 8 before the end
        Assert.Equal(9, _memory.ReadValue<byte>(DataAddress(8)));
        Assert.Equal((ulong)(DataBytes - 8) << 32, _memory.ReadValue<ulong>(DataAddress(16)));
    }

    [Fact]
    public void WritesLeaveAByteFreeAndSignalOnlyAnEmptyUnmaskedRing()
    {
        Assert.True(_ring.TryWrite(6, 0, 1, new byte[100], out bool first));
        Assert.True(first);
        Assert.True(_ring.TryWrite(6, 0, 2, new byte[100], out bool second));
        Assert.False(second); // the guest has a packet waiting already

        (WriteIndex, ReadIndex) = (0, 0);
        _memory.WriteValue((HeaderPfn * 4096) + 8, 1u); // the guest masked its interrupt
        Assert.True(_ring.TryWrite(6, 0, 3, [], out bool masked));
        Assert.False(masked);

        // A packet that would fill the ring exactly is refused: full and empty would look alike.
        (WriteIndex, ReadIndex) = (0, 0);
        Assert.False(_ring.TryWrite(6, 0, 4, new byte[DataBytes - 16 - 8], out _));
        Assert.True(_ring.TryWrite(6, 0, 4, new byte[DataBytes - 16 - 16], out _));
        Assert.Null(_ring.Broken);
    }

    [Fact]
    public void APacketLargerThanTheReadersBufferIsDroppedAndTheNextOneRead()
    {
        GuestWrites(6, 1, new byte[200]);
        GuestWrites(6, 2, new byte[8]);
        var packet = new byte[64];
        Assert.Equal(24, _ring.TryRead(packet));
        Assert.Equal(2UL, BinaryPrimitives.ReadUInt64LittleEndian(packet.AsSpan(8))); // the second packet's transaction id
        Assert.Equal(1, _ring.Dropped);
        Assert.Equal(0, _ring.TryRead(packet));
        Assert.Null(_ring.Broken);
    }

    [Theory]
    [InlineData(DataBytes + 8, 0u)] // a write index beyond the ring
    [InlineData(12u, 0u)] // unaligned
    [InlineData(0u, DataBytes)] // a read index beyond the ring
    public void IndicesOutsideTheRingBreakIt(uint write, uint read)
    {
        (WriteIndex, ReadIndex) = (write, read);
        Assert.Equal(-1, _ring.TryRead(new byte[64]));
        Assert.NotNull(_ring.Broken);
        Assert.False(_ring.TryWrite(6, 0, 1, [1], out _));
    }

    [Theory]
    [InlineData(1, 4)] // data before the end of the descriptor
    [InlineData(2, 100)] // longer than what was written
    [InlineData(3, 2)] // data offset past the packet's end
    public void APacketThatDoesNotFitWhatWasWrittenBreaksTheRing(ushort offset8, ushort length8)
    {
        GuestWrites(6, 1, new byte[24]);
        _memory.WriteValue(DataAddress(2), offset8);
        _memory.WriteValue(DataAddress(4), length8);
        Assert.Equal(-1, _ring.TryRead(new byte[1024]));
        Assert.NotNull(_ring.Broken);
        Assert.Equal(0u, ReadIndex); // nothing consumed
    }

    [Fact]
    public void RandomHeadersAndContentsNeverThrowOrTouchAnythingOutsideTheRing()
    {
        var random = new Random(1024);
        byte[] before = new byte[4096];
        _memory.Read(0x1C0 * 4096, before); // a page the ring does not own
        var packet = new byte[DataBytes];
        for (int i = 0; i < 20_000; i++)
        {
            var ring = new VmBusRing(_memory, [HeaderPfn, 0x180, 0x140]);
            (WriteIndex, ReadIndex) = ((uint)random.Next(0, (int)DataBytes + 64) & ~(random.Next(4) == 0 ? 0u : 7u), (uint)random.Next(0, (int)DataBytes + 64) & ~7u);
            var junk = new byte[64];
            random.NextBytes(junk);
            _memory.Write(DataAddress(ReadIndex % DataBytes & ~63u), junk);
            Assert.InRange(ring.TryRead(packet), -1, (int)DataBytes);
            ring.TryWrite(6, 0, (ulong)i, junk.AsSpan(0, random.Next(64)), out _);
        }
        byte[] after = new byte[4096];
        _memory.Read(0x1C0 * 4096, after);
        Assert.Equal(before, after);
    }
}
