using Actors.HwBackend.Memory;
using Xunit;

namespace Actors.HwBackend.Tests.Memory;

public sealed class GuestPhysicalMapTests
{
    private const ulong Page = GuestRam.PageSize;

    [Fact]
    public void RamRegionMustFitTheBackingBlock()
    {
        using var ram = new GuestRam(16 * Page);
        var map = new GuestPhysicalMap(ram);

        Assert.Throws<ArgumentOutOfRangeException>(() => map.AddRam("big", 0, 17 * Page, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.AddRam("offset", 0, 8 * Page, 9 * Page));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.AddRam("past", 0, Page, 17 * Page));
        Assert.Empty(map.Regions);
    }

    [Fact]
    public void RegionsMustBePageAlignedAndNonEmpty()
    {
        using var ram = new GuestRam(16 * Page);
        var map = new GuestPhysicalMap(ram);

        Assert.Throws<ArgumentException>(() => map.AddRam("unaligned base", 0x800, Page, 0));
        Assert.Throws<ArgumentException>(() => map.AddMmio("unaligned size", 0, 0x800));
        Assert.Throws<ArgumentException>(() => map.AddMmio("empty", 0, 0));
        Assert.Throws<ArgumentException>(() => map.AddMmio("wraps", ulong.MaxValue - Page + 1, 2 * Page));
    }

    [Fact]
    public void OverlappingRegionsAreRefused()
    {
        using var ram = new GuestRam(16 * Page);
        var map = new GuestPhysicalMap(ram);
        map.AddRam("ram", 0, 8 * Page, 0);
        map.AddMmio("apic", 16 * Page, Page);

        var ramOverRam = Assert.Throws<ArgumentException>(() => map.AddRam("ram2", 7 * Page, 2 * Page, 8 * Page));
        Assert.Contains("'ram'", ramOverRam.Message);
        var mmioOverMmio = Assert.Throws<ArgumentException>(() => map.AddMmio("ioapic", 15 * Page, 2 * Page));
        Assert.Contains("'apic'", mmioOverMmio.Message);
        Assert.Throws<ArgumentException>(() => map.AddMmio("hole", 4 * Page, Page));
        Assert.Equal(2, map.Regions.Count);

        map.AddMmio("adjacent", 8 * Page, Page); // touching is not overlapping
        Assert.Equal(3, map.Regions.Count);
    }

    [Fact]
    public void UnmappedAndMmioBytesReadAsAllOnes()
    {
        using var memory = new TestGuestMemory(4 * Page);
        memory.Map.Write(4 * Page - 2, [1, 2]);

        Assert.Equal(new byte[] { 1, 2, 0xFF, 0xFF }, memory.Read(4 * Page - 2, 4));
        Assert.Equal(0xFFFF_FFFFU, memory.Map.ReadValue<uint>(0xFEE0_0030));
        Assert.Equal(ulong.MaxValue, memory.Map.ReadValue<ulong>(0x1_0000_0000));
    }

    [Fact]
    public void WritesOutsideRamAreRefusedWhole()
    {
        using var memory = new TestGuestMemory(4 * Page);

        Assert.Throws<ArgumentOutOfRangeException>(() => memory.Map.Write(4 * Page - 1, [1, 2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.Map.WriteValue(0xFEC0_0000UL, 1U));
        Assert.Equal(0, memory.Read(4 * Page - 1, 1)[0]); // nothing of the refused write landed
        Assert.Equal(0UL, memory.Map.DirtyLog.CountDirty());
    }

    [Fact]
    public void RamRegionsMapToTheirOffsetInTheBackingBlock()
    {
        using var ram = new GuestRam(8 * Page);
        var map = new GuestPhysicalMap(ram);
        map.AddRam("low", 0, 4 * Page, 0);
        map.AddRam("high", 0x1_0000_0000, 4 * Page, 4 * Page);

        map.WriteValue(0x1_0000_0010UL, 0xDEAD_BEEFU);

        Assert.Equal(0xDEAD_BEEFU, BitConverter.ToUInt32(ram.Span(4 * Page + 0x10, 4)));
        Assert.True(map.DirtyLog.IsDirty(4)); // dirty bits count RAM pages, not GPAs
        Assert.True(map.IsRam(0x1_0000_0000, 4 * Page));
        Assert.False(map.IsRam(3 * Page, 2 * Page));
    }

    [Fact]
    public unsafe void RamPointersExistOnlyForRam()
    {
        using var memory = new TestGuestMemory(4 * Page);

        Assert.True(memory.Map.TryGetRamPointer(Page + 5) == memory.Ram.HostPointer + Page + 5);
        Assert.True(memory.Map.TryGetRamPointer(0xFEE0_0000) == null);
        Assert.True(memory.Map.TryGetRamPointer(4 * Page) == null);
    }

    [Fact]
    public void WritesAcrossPagesMarkEveryPageAndTellTheObserver()
    {
        using var memory = new TestGuestMemory(8 * Page);
        var observer = new RecordingObserver();
        memory.Map.Observer = observer;

        memory.Map.Write(Page - 4, new byte[Page + 8]);

        Assert.Equal(new ulong[] { 0, 1, 2 }, Enumerable.Range(0, 8).Select(p => (ulong)p).Where(memory.Map.DirtyLog.IsDirty));
        Assert.Equal([(Page - 4, Page + 8)], observer.Writes);
    }

    [Fact]
    public void ValuesRoundTrip()
    {
        using var memory = new TestGuestMemory(4 * Page);

        memory.Map.WriteValue(Page - 3, 0x0102_0304_0506_0708UL);

        Assert.Equal(0x0102_0304_0506_0708UL, memory.Map.ReadValue<ulong>(Page - 3));
        Assert.Equal((byte)0x08, memory.Map.ReadValue<byte>(Page - 3));
    }

    private sealed class RecordingObserver : IGuestMemoryObserver
    {
        public List<(ulong Gpa, ulong Length)> Writes { get; } = [];

        public void OnHostWrite(ulong gpa, ulong length) => Writes.Add((gpa, length));
    }
}
