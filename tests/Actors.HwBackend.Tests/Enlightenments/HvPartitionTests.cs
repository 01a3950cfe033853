using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Tests.Devices;
using Xunit;

namespace Actors.HwBackend.Tests.Enlightenments;

public sealed class HvPartitionTests : IDisposable
{
    private const ulong MiB = 1 << 20;
    private const ulong HypercallPage = 0x5000;
    private const ulong LinuxGuestOsId = 0x8100UL << 48 | 0x0601_0000;
    private const long SoftwareTscHz = 1_000_000_000;

    private readonly GuestRam _ram = new(4 * MiB);
    private readonly GuestPhysicalMap _memory;
    private readonly ManualClock _clock = new();
    private readonly List<string> _resets = [];
    private readonly HvPartition _partition;
    private readonly HvProcessor _vp0, _vp1;

    public HvPartitionTests()
    {
        _memory = new GuestPhysicalMap(_ram);
        _memory.AddRam("low", 0, 2 * MiB, 0);
        _memory.AddMmio("hole", 2 * MiB, MiB);
        _partition = new HvPartition(_memory, _clock, processorCount: 2, SoftwareTscHz, _resets.Add);
        (_vp0, _vp1) = (NewVp(0), NewVp(1));
    }

    public void Dispose() => _ram.Dispose();

    private HvProcessor NewVp(uint index)
    {
        var apic = new RecordingSintDelivery();
        var synIc = new SyntheticInterruptController(_memory, apic);
        return new HvProcessor(_partition, index, synIc, new SyntheticTimers(_clock, synIc, apic, () => { }), new HypercallDispatcher(_memory, null));
    }

    [Fact]
    public void TheHypercallPageIsWrittenOnceTheGuestHasSaidWhoItIs()
    {
        // Before GUEST_OS_ID the enable bit does not stick (TLFS), and nothing is written.
        Assert.True(_vp0.TryWriteMsr(HvMsr.Hypercall, HypercallPage | 1));
        Assert.False(_vp0.HypercallsEnabled);
        Assert.Equal(0u, _memory.ReadValue<uint>(HypercallPage));

        Assert.True(_vp0.TryWriteMsr(HvMsr.GuestOsId, LinuxGuestOsId));
        Assert.True(_vp0.TryWriteMsr(HvMsr.Hypercall, HypercallPage | 1));
        Assert.True(_vp1.HypercallsEnabled); // partition-wide
        // OUT 0xEC, AL; RET: a port write exits on both backends (KVM keeps VMCALL to itself), and changes no register.
        Assert.Equal([0xE6, 0xEC, 0xC3, 0x00], ReadBytes(HypercallPage, 4));
        Assert.True(_vp1.TryReadMsr(HvMsr.Hypercall, out ulong value));
        Assert.Equal(HypercallPage | 1, value);

        // Clearing the guest OS id takes the interface away again.
        Assert.True(_vp0.TryWriteMsr(HvMsr.GuestOsId, 0));
        Assert.False(_vp0.HypercallsEnabled);
    }

    [Theory]
    [InlineData(HvMsr.Hypercall, 2 * MiB)] // MMIO
    [InlineData(HvMsr.Hypercall, 64 * MiB)] // beyond RAM
    [InlineData(HvMsr.ReferenceTsc, 2 * MiB)]
    [InlineData(HvMsr.VpAssistPage, 64 * MiB)]
    public void APageOutsideRamIsAGeneralProtectionFault(uint msr, ulong page)
    {
        Assert.True(_vp0.TryWriteMsr(HvMsr.GuestOsId, LinuxGuestOsId));
        Assert.False(_vp0.TryWriteMsr(msr, page | 1));
        Assert.True(_vp0.TryReadMsr(msr, out ulong value));
        Assert.Equal(0UL, value);
    }

    [Fact]
    public void ReferenceTimeCountsHundredsOfNanosecondsOfGuestTime()
    {
        _clock.Now = 1_234_567_800;
        Assert.True(_vp1.TryReadMsr(HvMsr.TimeRefCount, out ulong ticks));
        Assert.Equal(12_345_678UL, ticks);
        Assert.False(_vp1.TryWriteMsr(HvMsr.TimeRefCount, 0)); // read-only
    }

    [Fact]
    public void TheReferenceTscPageConvertsTheGigahertzTscToReferenceTime()
    {
        Assert.True(_vp0.TryWriteMsr(HvMsr.ReferenceTsc, 0x7000 | 1));
        Assert.Equal(1u, _memory.ReadValue<uint>(0x7000)); // a valid sequence
        ulong scale = _memory.ReadValue<ulong>(0x7008);
        long offset = _memory.ReadValue<long>(0x7010);

        // What a guest computes from it for a TSC of 10 s at 1 GHz: 10 s in 100 ns units.
        ulong tsc = 10_000_000_000;
        ulong reference = (ulong)((UInt128)tsc * scale >> 64) + (ulong)offset;
        Assert.InRange(reference, 99_999_999UL, 100_000_000UL);
    }

    [Theory]
    [InlineData(2_994_373_000L)] // a KVM host's TSC (KVM_GET_TSC_KHZ × 1000)
    [InlineData(10_000_001L)] // the slowest rate whose scale fits (at 10 MHz, one tick per 100 ns, it would be 2^64)
    public void TheTscRateTheBackendGivesIsTheOneTheGuestIsToldAndTheReferencePageScalesBy(long tscHz)
    {
        var partition = new HvPartition(_memory, _clock, 1, tscHz, _ => { });
        Assert.True(partition.TryReadMsr(0, HvMsr.TscFrequency, out ulong frequency));
        Assert.Equal((ulong)tscHz, frequency);

        Assert.True(partition.TryWriteMsr(0, HvMsr.ReferenceTsc, 0x7000 | 1));
        ulong scale = _memory.ReadValue<ulong>(0x7008);
        // 10 s of that TSC is 10 s of reference time, to within a tick.
        ulong reference = (ulong)((UInt128)(ulong)(10 * tscHz) * scale >> 64);
        Assert.InRange(reference, 99_999_999UL, 100_000_000UL);
    }

    [Fact]
    public void ATscTooSlowForAReferenceTickIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new HvPartition(_memory, _clock, 1, 10_000_000, _ => { }));

    [Fact]
    public void EachVpHasItsIndexAndItsOwnAssistPage()
    {
        Assert.True(_vp1.TryReadMsr(HvMsr.VpIndex, out ulong index));
        Assert.Equal(1UL, index);
        Assert.False(_vp1.TryWriteMsr(HvMsr.VpIndex, 0));

        Assert.True(_vp1.TryWriteMsr(HvMsr.VpAssistPage, 0x9000 | 1));
        Assert.True(_vp0.TryReadMsr(HvMsr.VpAssistPage, out ulong vp0Page));
        Assert.True(_vp1.TryReadMsr(HvMsr.VpAssistPage, out ulong vp1Page));
        Assert.Equal((0UL, 0x9001UL), (vp0Page, vp1Page));
    }

    [Fact]
    public void TheResetMsrResetsAndTheCrashMsrsKeepTheGuestsReport()
    {
        Assert.True(_vp0.TryWriteMsr(HvMsr.Reset, 0));
        Assert.Empty(_resets);
        Assert.True(_vp0.TryWriteMsr(HvMsr.Reset, 1));
        Assert.Equal([HvPartition.ResetReason], _resets);

        Assert.Null(_partition.CrashReport);
        for (uint i = 0; i < 5; i++)
            Assert.True(_vp0.TryWriteMsr(HvMsr.CrashP0 + i, 100 + i));
        Assert.False(_vp0.TryWriteMsr(HvMsr.CrashControl, 1)); // a capability we do not offer
        Assert.True(_vp0.TryWriteMsr(HvMsr.CrashControl, 1UL << 63));
        Assert.Equal([100UL, 101, 102, 103, 104], _partition.CrashReport);
    }

    [Fact]
    public void AnUnimplementedSyntheticMsrIsAGeneralProtectionFault()
    {
        Assert.True(_vp0.OwnsMsr(0x4000_0010)); // VP_RUNTIME: not here (nor advertised)
        Assert.False(_vp0.TryReadMsr(0x4000_0010, out _));
        Assert.False(_vp0.TryWriteMsr(0x4000_0010, 1));
        Assert.False(_vp0.OwnsMsr(0x1B));
    }

    [Fact]
    public void StateRoundTripsAndAStateOfAnotherShapeIsRefused()
    {
        Assert.True(_vp0.TryWriteMsr(HvMsr.GuestOsId, LinuxGuestOsId));
        Assert.True(_vp0.TryWriteMsr(HvMsr.Hypercall, HypercallPage | 1));
        Assert.True(_vp1.TryWriteMsr(HvMsr.VpAssistPage, 0x9001));
        HvPartitionState saved = _partition.SaveState();

        var copy = new HvPartition(_memory, _clock, 2, SoftwareTscHz, _ => { });
        Assert.Null(copy.FindRestoreProblem(saved));
        copy.RestoreState(saved);
        Assert.True(copy.HypercallsEnabled);
        Assert.Equal(saved with { CrashParameters = [], VpAssistPages = [] }, copy.SaveState() with { CrashParameters = [], VpAssistPages = [] });
        Assert.Equal(saved.VpAssistPages, copy.SaveState().VpAssistPages);

        var smaller = new HvPartition(_memory, _clock, 1, SoftwareTscHz, _ => { });
        Assert.Contains("VP assist pages for 2 VPs", smaller.FindRestoreProblem(saved));
        Assert.Contains("is not RAM", copy.FindRestoreProblem(saved with { Hypercall = 2 * MiB | 1 }));
    }

    private byte[] ReadBytes(ulong gpa, int count)
    {
        var bytes = new byte[count];
        _memory.Read(gpa, bytes);
        return bytes;
    }
}
