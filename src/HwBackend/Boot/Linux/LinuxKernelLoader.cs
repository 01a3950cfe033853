using System.Buffers.Binary;
using System.Text;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Boot.Linux;

/// <summary>
/// Boots a Linux/x86 bzImage through its 64-bit entry, as the boot protocol (2.12 and later)
/// describes for a loader that sets up long mode itself: the protected-mode kernel at its
/// preferred (or an aligned) address, the zero page with the setup header, an e820 map from
/// the platform's layout, the command line, the initrd as high as the kernel allows, and the
/// RSDP's address; then vCPU 0 enters <c>startup_64</c> on identity page tables with RSI
/// pointing at the zero page.
/// </summary>
internal static class LinuxKernelLoader
{
    private const int ZeroPageSize = 4096;
    private const int Startup64Offset = 0x200;
    private const byte UndefinedLoader = 0xFF;
    private const int MaxE820Entries = 128;
    private const int E820EntrySize = 20;

    // Zero page fields outside the setup header (struct boot_params).
    private const int AcpiRsdpAddressOffset = 0x070;
    private const int ExtRamdiskImageOffset = 0x0C0;
    private const int ExtRamdiskSizeOffset = 0x0C4;
    private const int ExtCommandLinePointerOffset = 0x0C8;
    private const int E820EntriesOffset = 0x1E8;
    private const int E820TableOffset = 0x2D0;

    private const ulong BootDataLowest = 0x9000;
    private const ulong FourGiB = 1UL << 32;

    public static LoadedGuestImage Load(ReadOnlySpan<byte> kernel, ReadOnlySpan<byte> initrd, string? commandLine, GuestPhysicalMap memory, ulong rsdpAddress)
    {
        LinuxSetupHeader header = LinuxSetupHeader.Parse(kernel);
        byte[] commandLineBytes = Encoding.UTF8.GetBytes(commandLine ?? string.Empty);
        if (commandLineBytes.AsSpan().Contains((byte)0))
            throw new GuestImageException("the kernel command line contains a NUL character");
        if ((ulong)commandLineBytes.Length > header.CommandLineSize)
            throw new GuestImageException($"the kernel command line is {commandLineBytes.Length} bytes; this kernel takes at most {header.CommandLineSize}");
        if (!initrd.IsEmpty)
            InitialRamDisk.Validate(initrd);

        var planner = new GuestMemoryPlanner(memory);
        ulong kernelBase = KernelAddress(header, memory);
        planner.ReserveImageRange("kernel (init_size)", kernelBase, header.InitSize);
        ulong kernelEnd = kernelBase + header.InitSize;
        planner.KeepFree(LegacyPcMemory.ConventionalMemoryEnd, LegacyPcMemory.UpperMemoryStart);

        ulong initrdBase = 0;
        if (!initrd.IsEmpty)
        {
            initrdBase = InitrdAddress(header, memory, kernelEnd, (ulong)initrd.Length);
            planner.ReserveImageRange("initrd", initrdBase, (ulong)initrd.Length);
        }

        var boot = new BootBlock(memory, commandLine: null, GuestImageLoader.BootLoaderName);
        ulong bootBase = planner.Allocate("GDT and stack", (ulong)boot.Size, GuestRam.PageSize, BootDataLowest, LegacyPcMemory.ConventionalMemoryEnd);
        ulong zeroPage = planner.Allocate("zero page", ZeroPageSize, GuestRam.PageSize, BootDataLowest, LegacyPcMemory.ConventionalMemoryEnd);
        ulong commandLineBase = planner.Allocate("command line", (ulong)commandLineBytes.Length + 1, 16, BootDataLowest, LegacyPcMemory.ConventionalMemoryEnd);
        ulong coverage = IdentityPageTables.CoverageFor(memory);
        ulong tablesBase = planner.Allocate("identity page tables", (ulong)IdentityPageTables.SizeFor(coverage), GuestRam.PageSize, BootDataLowest, ulong.MaxValue);

        memory.Write(kernelBase, kernel[header.KernelOffset..]);
        if (!initrd.IsEmpty)
            memory.Write(initrdBase, initrd);
        memory.Write(bootBase, boot.Build(bootBase, longMode: true));
        memory.Write(commandLineBase, [.. commandLineBytes, 0]);
        memory.Write(zeroPage, BuildZeroPage(kernel, header, boot.MemoryMap, commandLineBase, initrdBase, (ulong)initrd.Length, rsdpAddress));
        memory.Write(tablesBase, IdentityPageTables.Build(tablesBase, coverage, memory));

        ulong entry = kernelBase + Startup64Offset;
        var state = BootEntryState.LinuxLongMode(entry, zeroPage, bootBase + BootBlock.GdtOffset, BootBlock.StackTop(bootBase, boot.Size), tablesBase);
        return new LoadedGuestImage(GuestImageFormat.LinuxBzImage, state, entry, kernelBase, kernelEnd, zeroPage, tablesBase);
    }

    /// <summary>The preferred address when it is RAM and aligned, else the first aligned address from 1 MiB.</summary>
    private static ulong KernelAddress(LinuxSetupHeader header, GuestPhysicalMap memory)
    {
        ulong alignment = header.KernelAlignment;
        if (header.PreferredAddress % alignment == 0 && memory.IsRam(header.PreferredAddress, header.InitSize))
            return header.PreferredAddress;
        ulong fallback = (LegacyPcMemory.UpperMemoryStart + alignment - 1) & ~(alignment - 1);
        if (!memory.IsRam(fallback, header.InitSize))
            throw new GuestImageException($"the kernel needs {header.InitSize >> 20} MiB of RAM from 0x{fallback:x} (init_size), more than this VM has there");
        return fallback;
    }

    /// <summary>As high as initrd_addr_max, 4 GiB and the RAM from 1 MiB allow (as QEMU does), page aligned, above the kernel.</summary>
    private static ulong InitrdAddress(LinuxSetupHeader header, GuestPhysicalMap memory, ulong kernelEnd, ulong size)
    {
        ulong ramEnd = LegacyPcMemory.UpperMemoryStart;
        while (memory.FindRegion(ramEnd) is { Kind: GuestMemoryRegionKind.Ram } region)
            ramEnd = region.End;
        ulong top = Math.Min(Math.Min((ulong)header.InitrdAddressMax + 1, FourGiB), ramEnd);
        ulong start = top > size ? (top - size) & ~((ulong)GuestRam.PageSize - 1) : 0;
        if (top <= size || start < kernelEnd)
            throw new GuestImageException($"the initrd ({size >> 10} KiB) does not fit in the RAM between the kernel's end (0x{kernelEnd:x}) and 0x{top:x}");
        return start;
    }

    private static byte[] BuildZeroPage(
        ReadOnlySpan<byte> kernel,
        LinuxSetupHeader header,
        IReadOnlyList<(ulong Base, ulong Length, uint Type)> memoryMap,
        ulong commandLine,
        ulong initrdBase,
        ulong initrdSize,
        ulong rsdpAddress)
    {
        if (memoryMap.Count > MaxE820Entries)
            throw new GuestImageException($"the memory map has {memoryMap.Count} entries; the zero page holds {MaxE820Entries}");
        var page = new byte[ZeroPageSize];
        Span<byte> span = page;
        kernel[LinuxSetupHeader.SetupSectorsOffset..header.HeaderEnd].CopyTo(span[LinuxSetupHeader.SetupSectorsOffset..]);
        span[LinuxSetupHeader.TypeOfLoaderOffset] = UndefinedLoader;
        BinaryPrimitives.WriteUInt32LittleEndian(span[LinuxSetupHeader.CommandLinePointerOffset..], (uint)commandLine);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ExtCommandLinePointerOffset..], (uint)(commandLine >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(span[LinuxSetupHeader.RamdiskImageOffset..], (uint)initrdBase);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ExtRamdiskImageOffset..], (uint)(initrdBase >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(span[LinuxSetupHeader.RamdiskSizeOffset..], (uint)initrdSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ExtRamdiskSizeOffset..], (uint)(initrdSize >> 32));
        BinaryPrimitives.WriteUInt64LittleEndian(span[AcpiRsdpAddressOffset..], rsdpAddress);
        span[E820EntriesOffset] = (byte)memoryMap.Count;
        for (int i = 0; i < memoryMap.Count; i++)
        {
            Span<byte> entry = span.Slice(E820TableOffset + (i * E820EntrySize), E820EntrySize);
            BinaryPrimitives.WriteUInt64LittleEndian(entry, memoryMap[i].Base);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], memoryMap[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[16..], memoryMap[i].Type);
        }

        return page;
    }
}
