using System.Buffers.Binary;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Storage;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.VmBus.Storage;
using Xunit;

namespace Actors.HwBackend.Tests.VmBus;

/// <summary>
/// The storage VSP without a guest: the test writes packets into the channel's guest-to-host ring
/// as hv_storvsc does (in-band for control and data-less commands, GPA direct with a page list for
/// the rest), signals, and reads the completions from the host-to-guest ring.
/// </summary>
public sealed class StorageVspTests : IDisposable
{
    private const ulong MiB = 1 << 20;
    private const ulong ToHostRing = 0x100, ToGuestRing = 0x180; // page numbers: header, then 8 data pages each
    private const int RingDataPages = 8;
    private const ulong DataPage = 0x300; // where the tests put their data buffers

    private readonly GuestRam _ram = new(4 * MiB);
    private readonly GuestPhysicalMap _memory;
    private readonly VmBusRing _guestReads;
    private readonly VmBusChannel _channel;
    private readonly MemoryBlockStore _store = new(1 << 20);
    private readonly StorageVsp _vsp;
    private readonly byte[] _packet = new byte[4096];
    private ulong _transaction = 100;

    public StorageVspTests()
    {
        _memory = new GuestPhysicalMap(_ram);
        _memory.AddRam("low", 0, 4 * MiB, 0);
        ulong[] toHost = [.. Enumerable.Range((int)ToHostRing, 1 + RingDataPages).Select(p => (ulong)p)];
        ulong[] toGuest = [.. Enumerable.Range((int)ToGuestRing, 1 + RingDataPages).Select(p => (ulong)p)];
        _guestReads = new VmBusRing(_memory, toGuest);
        _channel = new VmBusChannel(5, 0, 2, new VmBusRing(_memory, toHost), new VmBusRing(_memory, toGuest), new SignalCounter(), _ => null);
        _vsp = new StorageVsp(_memory, [new ScsiDisk(_store, "unit-test")]);
        _vsp.Opened(_channel);
    }

    public void Dispose() => _ram.Dispose();

    [Fact]
    public void TheInitialisationLinuxRunsIsAnsweredAndOnlyVersionSixTwoIsTaken()
    {
        Assert.Equal(0u, Status(Control(7))); // BEGIN_INITIALIZATION
        Assert.NotEqual(0u, Status(Control(9, version: 0x0601)));
        byte[] version = Control(9, version: 0x0602);
        Assert.Equal((1u, 0u), (Operation(version), Status(version)));
        byte[] properties = Control(10);
        Assert.Equal(0u, Status(properties));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(properties.AsSpan(12 + 4))); // no sub-channels
        Assert.Equal((uint)StorageVsp.MaxTransferBytes, BinaryPrimitives.ReadUInt32LittleEndian(properties.AsSpan(12 + 12)));
        Assert.Equal(0u, Status(Control(8))); // END_INITIALIZATION
        Assert.NotEqual(0u, Status(Control(13))); // sub-channels are not offered
    }

    [Fact]
    public void AWriteAcrossTwoPagesAtAnOffsetIsReadBackThroughAnotherBuffer()
    {
        byte[] data = new byte[4096];
        new Random(3).NextBytes(data);
        _memory.Write((DataPage * 4096) + 512, data); // 3.5 KiB in the first page, 512 bytes in the second
        byte[] write = Srb([0x2A, 0, 0, 0, 0, 16, 0, 0, 8, 0], direction: 0, offset: 512, length: 4096, DataPage, DataPage + 1);
        Assert.Equal((SrbSuccess, 0, 4096u), Outcome(write));
        byte[] stored = new byte[4096];
        _store.Read(16 * 512, stored);
        Assert.Equal(data, stored);

        byte[] read = Srb([0x28, 0, 0, 0, 0, 16, 0, 0, 8, 0], direction: 1, offset: 0, length: 4096, DataPage + 4);
        Assert.Equal((SrbSuccess, 0, 4096u), Outcome(read));
        byte[] back = new byte[4096];
        _memory.Read((DataPage + 4) * 4096, back);
        Assert.Equal(data, back);
        Assert.Equal(2, _vsp.Requests);
    }

    [Fact]
    public void AnAddressWithNoDiskSaysNoDeviceIsThereAndListsNoLunsSoLinuxsScanAddsNothing()
    {
        byte[] inquiry = [0x12, 0, 0, 0, 36, 0];
        Assert.Equal((SrbSuccess, 0, 36u), Outcome(Srb(inquiry, 1, 0, 36, DataPage)));
        Assert.Equal(0x00, Read(DataPage)[0]); // a disk
        foreach ((byte path, byte target, byte lun) in new (byte, byte, byte)[] { (0, 0, 1), (0, 1, 0), (3, 0, 0) })
        {
            Assert.Equal((SrbSuccess, 0, 36u), Outcome(Srb(inquiry, 1, 0, 36, [DataPage], path, target, lun)));
            Assert.Equal(0x7F, Read(DataPage)[0]); // peripheral qualifier 3: nothing here
            Assert.Equal(0x20, Outcome(Srb([0x00, 0, 0, 0, 0, 0], 2, 0, 0, [], path, target, lun)).SrbStatus); // INVALID_LUN
        }

        byte[] reportLuns = [0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0];
        Assert.Equal((SrbSuccess, 0, 16u), Outcome(Srb(reportLuns, 1, 0, 256, DataPage)));
        Assert.Equal(8u, BinaryPrimitives.ReadUInt32BigEndian(Read(DataPage))); // LUN 0 only
        Assert.Equal((SrbSuccess, 0, 8u), Outcome(Srb(reportLuns, 1, 0, 256, [DataPage], target: 1)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(Read(DataPage)));
    }

    [Fact]
    public void AReadPastTheEndIsACheckConditionWithTheSenseLinuxReads()
    {
        uint lastLba = (uint)(_store.Length / 512) - 1;
        byte[] cdb = [0x28, 0, (byte)(lastLba >> 24), (byte)(lastLba >> 16), (byte)(lastLba >> 8), (byte)lastLba, 0, 0, 2, 0];
        byte[] answer = Srb(cdb, 1, 0, 1024, DataPage);
        (byte srbStatus, byte scsiStatus, _) = Outcome(answer);
        Assert.Equal((0x84, 0x02), (srbStatus, scsiStatus)); // error with autosense; CHECK CONDITION
        Span<byte> sense = answer.AsSpan(12 + 16, 20);
        Assert.Equal((0x70, 0x05, 0x21), (sense[0] & 0x7F, sense[2] & 0x0F, sense[12])); // ILLEGAL REQUEST, LBA OUT OF RANGE
    }

    [Theory]
    [InlineData("a page outside RAM")]
    [InlineData("two ranges")]
    [InlineData("a page list longer than the descriptor")]
    [InlineData("more than the largest transfer")]
    [InlineData("an offset past the first page")]
    [InlineData("a CDB length of 17")]
    public void ARequestWhosePagesOrFieldsCannotBeHonouredIsFailedAndTouchesNoMemory(string how)
    {
        _memory.Write(DataPage * 4096, new byte[4096]);
        byte[] packet = SrbPacket([0x12, 0, 0, 0, 36, 0], direction: 1, offset: 0, length: 36, [DataPage], 0, 0, 0);
        switch (how)
        {
            case "a page outside RAM": BinaryPrimitives.WriteUInt64LittleEndian(packet.AsSpan(32), 0x10_0000); break;
            case "two ranges": BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(20), 2); break;
            case "a page list longer than the descriptor": BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(24), 3 * 4096); break;
            case "more than the largest transfer": BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(24), StorageVsp.MaxTransferBytes + 4096); break;
            case "an offset past the first page": BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(28), 4096); break;
            case "a CDB length of 17": packet[40 + 12 + 8] = 17; break;
        }
        byte[] answer = Exchange(packet);
        Assert.Equal(0x06, Outcome(answer).SrbStatus); // INVALID_REQUEST
        Assert.Equal(new byte[4096], Read(DataPage));
        Assert.Equal(1, _vsp.Malformed);
    }

    [Fact]
    public void APacketTooShortForAStoragePacketIsDroppedAndCounted()
    {
        WriteRaw(Descriptor(6, 2, 16 + 8, 1, 7), new byte[8]);
        _vsp.Signalled(_channel);
        Assert.Equal(0, _guestReads.TryRead(_packet));
        Assert.Equal(1, _vsp.Malformed);
    }

    [Fact]
    public void AHundredThousandMutatedPacketsNeverThrowAndEveryAnswerIsACompletion()
    {
        var random = new Random(2026);
        byte[] baseline = SrbPacket([0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0], 1, 0, 512, [DataPage], 0, 0, 0);
        for (int i = 0; i < 100_000; i++)
        {
            byte[] packet = random.Next(4) == 0 ? RandomPacket(random) : Mutate(baseline, random);
            // Keep the descriptor's own framing sane enough to reach the ring; the VSP sees everything else as sent.
            int length = (packet.Length + 7) & ~7;
            Array.Resize(ref packet, length);
            BinaryPrimitives.WriteUInt16LittleEndian(packet.AsSpan(4), (ushort)(length / 8));
            int offset8 = BinaryPrimitives.ReadUInt16LittleEndian(packet.AsSpan(2));
            if (offset8 < 2 || offset8 * 8 > length)
                BinaryPrimitives.WriteUInt16LittleEndian(packet.AsSpan(2), 2);
            WriteRaw(packet.AsSpan(0, 16), packet.AsSpan(16));
            _vsp.Signalled(_channel);
            int answered;
            while ((answered = _guestReads.TryRead(_packet)) > 0)
            {
                Assert.Equal(16 + 64, answered);
                Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(_packet.AsSpan(16))); // COMPLETE_IO
            }
            Assert.Null(_channel.Broken);
        }
    }

    [Fact]
    public async Task ADiskThatAnswersLaterIsAnsweredWhenItDoesAndTheGuestWaitsBehindAFullQueue()
    {
        var lun = new LaterLun();
        var vsp = new StorageVsp(_memory, [lun]);
        vsp.Opened(_channel);
        for (int i = 0; i < StorageVsp.MaxInFlight + 2; i++)
        {
            byte[] read = SrbPacket([0x28, 0, 0, 0, 0, (byte)i, 0, 0, 1, 0], 1, 0, 512, [DataPage + (ulong)i], 0, 0, 0);
            WriteRaw(read.AsSpan(0, 16), read.AsSpan(16));
        }
        vsp.Signalled(_channel);
        Assert.Equal(StorageVsp.MaxInFlight, lun.Waiting); // the rest wait in the ring
        Assert.Equal(0, _guestReads.TryRead(_packet));
        Task drained = vsp.DrainAsync();
        Assert.False(drained.IsCompleted);

        lun.Answer(0, fill: 0xAB);
        await NextCompletionAsync();
        Assert.Equal((SrbSuccess, 0, 512u), Outcome(_packet[16..80]));
        Assert.Equal(0xAB, Read(DataPage)[0]);
        for (int tries = 0; tries < 500 && lun.Waiting < StorageVsp.MaxInFlight; tries++)
            await Task.Delay(10);
        Assert.Equal(StorageVsp.MaxInFlight, lun.Waiting); // one answered, one more read from the ring

        lun.Fail(1); // the disk's host is gone: the guest hears "becoming ready" and will retry
        await NextCompletionAsync();
        Assert.Equal((0x84, 0x02), (_packet[16 + 12 + 2], _packet[16 + 12 + 3]));
        Assert.Equal((0x02, 0x04, 0x01), (_packet[16 + 12 + 16 + 2] & 0x0F, _packet[16 + 12 + 16 + 12], _packet[16 + 12 + 16 + 13]));

        while (lun.Waiting > 0)
            lun.Answer(lun.Oldest, fill: 0x11);
        await drained.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(StorageVsp.MaxInFlight + 2, vsp.Requests);
        vsp.Detach();
    }

    /// <summary>Waits (boundedly) for the next completion in the guest's ring: a late answer is written from the thread it arrives on.</summary>
    private async Task NextCompletionAsync()
    {
        for (int tries = 0; tries < 500; tries++)
        {
            int length = _guestReads.TryRead(_packet);
            if (length > 0)
            {
                Assert.Equal(16 + 64, length);
                return;
            }
            await Task.Delay(10);
        }
        Assert.Fail("no completion within 5 s");
    }

    [Fact]
    public async Task AnAnswerThatArrivesAfterTheMachineWentTouchesNoMemory()
    {
        var lun = new LaterLun();
        var vsp = new StorageVsp(_memory, [lun]);
        vsp.Opened(_channel);
        byte[] read = SrbPacket([0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], 1, 0, 512, [DataPage], 0, 0, 0);
        WriteRaw(read.AsSpan(0, 16), read.AsSpan(16));
        vsp.Signalled(_channel);
        vsp.Detach();
        lun.Answer(0, fill: 0xCD);
        await vsp.DrainAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, _guestReads.TryRead(_packet));
        Assert.NotEqual(0xCD, Read(DataPage)[0]);
    }

    /// <summary>A LUN whose answers the test gives, in any order, from its own thread: reads fill their buffer with one byte.</summary>
    private sealed class LaterLun : IScsiLun
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<int, (TaskCompletionSource<ScsiResult> Done, Memory<byte> Data)> _waiting = [];
        private int _next;

        public int Waiting
        {
            get { lock (_lock) return _waiting.Count; }
        }

        public int Oldest
        {
            get { lock (_lock) return _waiting.Keys.Min(); }
        }

        public ValueTask<ScsiResult> ExecuteAsync(ReadOnlyMemory<byte> cdb, Memory<byte> dataIn, ReadOnlyMemory<byte> dataOut)
        {
            var done = new TaskCompletionSource<ScsiResult>();
            lock (_lock)
                _waiting[_next++] = (done, dataIn);
            return new ValueTask<ScsiResult>(done.Task);
        }

        public void Answer(int request, byte fill)
        {
            (TaskCompletionSource<ScsiResult> done, Memory<byte> data) = Take(request);
            data.Span.Fill(fill);
            done.SetResult(ScsiResult.Good(data.Length));
        }

        public void Fail(int request) => Take(request).Done.SetException(new TimeoutException("the disk's host did not answer"));

        private (TaskCompletionSource<ScsiResult> Done, Memory<byte> Data) Take(int request)
        {
            lock (_lock)
            {
                var taken = _waiting[request];
                _waiting.Remove(request);
                return taken;
            }
        }
    }

    private const byte SrbSuccess = 0x01;

    private static (byte SrbStatus, byte ScsiStatus, uint Transferred) Outcome(byte[] answer) =>
        (answer[12 + 2], answer[12 + 3], BinaryPrimitives.ReadUInt32LittleEndian(answer.AsSpan(12 + 12)));

    private static uint Operation(byte[] answer) => BinaryPrimitives.ReadUInt32LittleEndian(answer);

    private static uint Status(byte[] answer) => BinaryPrimitives.ReadUInt32LittleEndian(answer.AsSpan(8));

    private byte[] Read(ulong page)
    {
        byte[] bytes = new byte[4096];
        _memory.Read(page * 4096, bytes);
        return bytes;
    }

    /// <summary>Sends a control operation in-band, as storvsc_execute_vstor_op does, and returns the answer's vstor_packet.</summary>
    private byte[] Control(uint operation, ushort version = 0)
    {
        byte[] body = new byte[64];
        BinaryPrimitives.WriteUInt32LittleEndian(body, operation);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), 1); // REQUEST_COMPLETION_FLAG
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(12), version);
        return Exchange([.. Descriptor(6, 2, 16 + 64, 1, ++_transaction), .. body]);
    }

    private byte[] Srb(byte[] cdb, byte direction, int offset, int length, params ulong[] pages) => Srb(cdb, direction, offset, length, pages, 0, 0, 0);

    private byte[] Srb(byte[] cdb, byte direction, int offset, int length, ulong[] pages, byte path = 0, byte target = 0, byte lun = 0) =>
        Exchange(SrbPacket(cdb, direction, offset, length, pages, path, target, lun));

    /// <summary>An EXECUTE_SRB as storvsc_queuecommand builds it: GPA direct with one range (or in-band without data).</summary>
    private byte[] SrbPacket(byte[] cdb, byte direction, int offset, int length, ulong[] pages, byte path, byte target, byte lun)
    {
        int rangeBytes = pages.Length == 0 ? 0 : 16 + (8 * pages.Length);
        int dataOffset = 16 + rangeBytes;
        byte[] packet = new byte[dataOffset + 64];
        bool gpaDirect = pages.Length > 0;
        Descriptor(gpaDirect ? (ushort)9 : (ushort)6, (ushort)(dataOffset / 8), packet.Length, 1, ++_transaction).CopyTo(packet, 0);
        if (gpaDirect)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(20), 1);
            BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(24), (uint)length);
            BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(28), (uint)offset);
            for (int i = 0; i < pages.Length; i++)
                BinaryPrimitives.WriteUInt64LittleEndian(packet.AsSpan(32 + (8 * i)), pages[i]);
        }
        Span<byte> body = packet.AsSpan(dataOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(body, 3); // EXECUTE_SRB
        BinaryPrimitives.WriteUInt32LittleEndian(body[4..], 1);
        Span<byte> srb = body[12..];
        BinaryPrimitives.WriteUInt16LittleEndian(srb, 52);
        (srb[5], srb[6], srb[7], srb[8], srb[9], srb[10]) = (path, target, lun, (byte)cdb.Length, 20, direction);
        BinaryPrimitives.WriteUInt32LittleEndian(srb[12..], (uint)length);
        cdb.CopyTo(srb[16..]);
        return packet;
    }

    private static byte[] Descriptor(ushort type, ushort offset8, int length, ushort flags, ulong transaction)
    {
        byte[] descriptor = new byte[16];
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor, type);
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor.AsSpan(2), offset8);
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor.AsSpan(4), (ushort)((length + 7) / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt64LittleEndian(descriptor.AsSpan(8), transaction);
        return descriptor;
    }

    /// <summary>Puts a whole packet in the ring, signals, and returns the one answer's vstor_packet, checking it carries the same transaction.</summary>
    private byte[] Exchange(byte[] packet)
    {
        WriteRaw(packet.AsSpan(0, 16), packet.AsSpan(16));
        _vsp.Signalled(_channel);
        int length = _guestReads.TryRead(_packet);
        Assert.Equal(16 + 64, length);
        Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(packet.AsSpan(8)), BinaryPrimitives.ReadUInt64LittleEndian(_packet.AsSpan(8)));
        Assert.Equal(0, _guestReads.TryRead(new byte[128]));
        return _packet[16..length];
    }

    /// <summary>What the guest's ring writer does: the packet (padded to 8), an 8-byte trailer, then the new write index.</summary>
    private void WriteRaw(ReadOnlySpan<byte> descriptor, ReadOnlySpan<byte> rest)
    {
        ulong header = ToHostRing * 4096;
        uint size = RingDataPages * 4096;
        uint write = _memory.ReadValue<uint>(header);
        int length = (descriptor.Length + rest.Length + 7) & ~7;
        byte[] bytes = new byte[length + 8];
        descriptor.CopyTo(bytes);
        rest.CopyTo(bytes.AsSpan(descriptor.Length));
        for (int i = 0; i < bytes.Length; i++)
        {
            uint at = (write + (uint)i) % size;
            _memory.Write(((ToHostRing + 1 + (at / 4096)) * 4096) + (at % 4096), bytes.AsSpan(i, 1));
        }
        _memory.WriteValue(header, (uint)((write + bytes.Length) % size));
    }

    private static byte[] Mutate(byte[] baseline, Random random)
    {
        byte[] packet = (byte[])baseline.Clone();
        for (int flips = random.Next(1, 6); flips > 0; flips--)
            packet[random.Next(packet.Length)] = (byte)random.Next(256);
        return packet;
    }

    private static byte[] RandomPacket(Random random)
    {
        byte[] packet = new byte[random.Next(16, 400)];
        random.NextBytes(packet);
        return packet;
    }
}
