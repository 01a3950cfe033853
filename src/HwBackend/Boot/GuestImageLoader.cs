using Actors.HwBackend.Memory;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Boot;

/// <summary>
/// Loads a kernel image into guest memory and produces vCPU 0's entry state, the way QEMU's
/// <c>-kernel</c> does for the same file.
/// <list type="bullet">
/// <item>A Linux/x86 bzImage: booted through its 64-bit entry with an optional initrd (see <see cref="Linux.LinuxKernelLoader"/>).</item>
/// <item>ELF64 for x86-64: loaded through its program headers and entered in long mode at
/// <c>e_entry</c>. This wins over a Multiboot header in the same file: such images carry one only
/// so QEMU (which refuses ELF64 Multiboot kernels without address fields) can boot them through a
/// 32-bit trampoline, and entering 64-bit code directly skips that detour.</item>
/// <item>Multiboot v1 with address fields (flag 16, the "a.out kludge"), whatever the file
/// format: loaded from those fields. GRUB and QEMU give them precedence over ELF headers too.</item>
/// <item>ELF32 (i386) with a Multiboot v1 header: loaded through its program headers.</item>
/// </list>
/// Everything is validated before any guest memory is written, and malformed input of any kind is
/// refused with a <see cref="GuestImageException"/>.
/// </summary>
public static class GuestImageLoader
{
    public const string BootLoaderName = "Actors";

    // Boot data goes where QEMU puts its Multiboot info (0x9000): guests that tolerate QEMU's
    // low-memory layout tolerate ours, and the first pages (real-mode IVT, null) stay untouched.
    // It stays below the EBDA, in RAM the memory map reports as usable.
    private const ulong BootDataLowest = 0x9000;
    private const ulong BootDataLimit = LegacyPcMemory.ConventionalMemoryEnd;
    private const ulong FourGiB = 1UL << 32;

    private static readonly byte[] Zeros = new byte[64 * 1024];

    public static LoadedGuestImage Load(ReadOnlySpan<byte> image, GuestPhysicalMap memory, string? commandLine = null, ReadOnlySpan<byte> initrd = default)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (image.IsEmpty)
            throw new GuestImageException("the guest image is empty");
        if (Linux.LinuxSetupHeader.HasMagic(image))
            return Linux.LinuxKernelLoader.Load(image, initrd, commandLine, memory, FirmwareTables.RsdpAddress);
        if (!initrd.IsEmpty)
            throw new GuestImageException("an initrd goes with a Linux bzImage kernel, and this image is not one (no setup header magic 'HdrS' at 0x202)");

        bool isElf = ElfExecutable.HasMagic(image);
        if (isElf && ElfExecutable.ClassOf(image) == ElfExecutable.Class64)
            return LoadElf64(image, memory, commandLine);

        var header = MultibootHeader.Find(image);
        if (header is null)
        {
            throw new GuestImageException(isElf
                ? "ELF image has no Multiboot header in its first 8 KiB; 32-bit kernels need one (64-bit kernels must be ELF64 for x86-64)"
                : "not a guest image: neither a Linux bzImage (no setup header magic 'HdrS' at 0x202), ELF64 for x86-64, nor a Multiboot kernel (no header with magic 0x1BADB002 in the first 8 KiB)");
        }
        if (header.Value.HasAddressFields)
            return LoadMultibootAddressFields(image, header.Value, memory, commandLine);
        if (!isElf)
            throw new GuestImageException($"Multiboot header at file offset 0x{header.Value.Offset:x} has no address fields (flag 16), so the image must be ELF32, but it is not ELF");
        byte elfClass = ElfExecutable.ClassOf(image);
        if (elfClass != ElfExecutable.Class32)
            throw new GuestImageException($"ELF image has unknown class {elfClass} (EI_CLASS must be 1 for ELF32 or 2 for ELF64)");
        return LoadMultibootElf32(image, memory, commandLine);
    }

    private static LoadedGuestImage LoadMultibootElf32(ReadOnlySpan<byte> image, GuestPhysicalMap memory, string? commandLine)
    {
        var elf = ElfExecutable.Parse(image, is64: false);
        var segments = SegmentsOf(elf);
        foreach (var s in segments)
        {
            if (s.End > FourGiB)
                throw new GuestImageException($"ELF32 {s.Description} [0x{s.Address:x}, 0x{s.End:x}) extends beyond 4 GiB, which a 32-bit kernel cannot address");
        }
        return Place(GuestImageFormat.MultibootElf32, image, memory, commandLine, segments, elf.PhysicalEntry(), longMode: false);
    }

    private static LoadedGuestImage LoadMultibootAddressFields(ReadOnlySpan<byte> image, MultibootHeader header, GuestPhysicalMap memory, string? commandLine)
    {
        uint loadAddress = header.LoadAddress;
        if (loadAddress > header.HeaderAddress)
            throw new GuestImageException($"Multiboot load_addr 0x{loadAddress:x} is above header_addr 0x{header.HeaderAddress:x}; the header must lie in the loaded text");
        ulong headerDistance = header.HeaderAddress - loadAddress;
        if (headerDistance > (ulong)header.Offset)
            throw new GuestImageException($"Multiboot header_addr 0x{header.HeaderAddress:x} and load_addr 0x{loadAddress:x} put the load start {headerDistance} bytes before the header, but the header is only {header.Offset} bytes into the file");
        int fileOffset = header.Offset - (int)headerDistance;
        ulong available = (ulong)(image.Length - fileOffset);

        ulong loadSize;
        if (header.LoadEndAddress == 0)
        {
            loadSize = available;
        }
        else
        {
            if (header.LoadEndAddress < loadAddress)
                throw new GuestImageException($"Multiboot load_end_addr 0x{header.LoadEndAddress:x} is below load_addr 0x{loadAddress:x}");
            loadSize = header.LoadEndAddress - loadAddress;
            if (loadSize > available)
                throw new GuestImageException($"image truncated: its Multiboot header asks for {loadSize} bytes from file offset 0x{fileOffset:x}, but only {available} bytes follow");
        }

        ulong memorySize = loadSize;
        if (header.BssEndAddress != 0)
        {
            ulong loadEnd = loadAddress + loadSize;
            if (header.BssEndAddress < loadEnd)
                throw new GuestImageException($"Multiboot bss_end_addr 0x{header.BssEndAddress:x} is below the end of the loaded text 0x{loadEnd:x}");
            memorySize = header.BssEndAddress - loadAddress;
        }
        if (memorySize == 0)
            throw new GuestImageException("Multiboot address fields load nothing (load_addr equals load_end_addr and there is no bss)");

        var segment = new ImageSegment("Multiboot load range", loadAddress, fileOffset, (int)loadSize, memorySize);
        return Place(GuestImageFormat.MultibootAddressFields, image, memory, commandLine, [segment], header.EntryAddress, longMode: false);
    }

    private static LoadedGuestImage LoadElf64(ReadOnlySpan<byte> image, GuestPhysicalMap memory, string? commandLine)
    {
        var elf = ElfExecutable.Parse(image, is64: true);
        return Place(GuestImageFormat.Elf64, image, memory, commandLine, SegmentsOf(elf), elf.PhysicalEntry(), longMode: true);
    }

    private static List<ImageSegment> SegmentsOf(ElfExecutable elf) =>
        elf.Segments.Select(s => new ImageSegment($"segment {s.Index}", s.PhysicalAddress, s.FileOffset, s.FileSize, s.MemorySize)).ToList();

    /// <summary>Plans every range, then writes image, boot data and page tables, then builds the entry state.</summary>
    private static LoadedGuestImage Place(
        GuestImageFormat format,
        ReadOnlySpan<byte> image,
        GuestPhysicalMap memory,
        string? commandLine,
        List<ImageSegment> segments,
        ulong entry,
        bool longMode)
    {
        var planner = new GuestMemoryPlanner(memory);
        foreach (var s in segments)
            planner.ReserveImageRange(s.Description, s.Address, s.MemorySize);
        if (!segments.Any(s => s.Contains(entry)))
            throw new GuestImageException($"entry point 0x{entry:x} lies outside every loaded segment");
        ulong imageStart = planner.LowestOccupied;
        ulong imageEnd = planner.HighestOccupied;
        planner.KeepFree(LegacyPcMemory.ConventionalMemoryEnd, LegacyPcMemory.UpperMemoryStart);

        var boot = new BootBlock(memory, commandLine, BootLoaderName);
        ulong bootBase = planner.Allocate("boot data (GDT, Multiboot info, command line, stack)", (ulong)boot.Size, GuestRam.PageSize, BootDataLowest, BootDataLimit);

        ulong tablesBase = 0;
        byte[]? tables = null;
        if (longMode)
        {
            ulong coverage = IdentityPageTables.CoverageFor(memory);
            tablesBase = planner.Allocate("identity page tables", (ulong)IdentityPageTables.SizeFor(coverage), GuestRam.PageSize, BootDataLowest, ulong.MaxValue);
            tables = IdentityPageTables.Build(tablesBase, coverage, memory);
        }

        foreach (var s in segments)
            WriteSegment(memory, image, s);
        memory.Write(bootBase, boot.Build(bootBase, longMode));
        if (tables is not null)
            memory.Write(tablesBase, tables);

        ulong infoAddress = BootBlock.InfoAddress(bootBase);
        ulong stackTop = BootBlock.StackTop(bootBase, boot.Size);
        var state = longMode
            ? BootEntryState.LongMode(entry, infoAddress, bootBase + BootBlock.GdtOffset, stackTop, tablesBase)
            : BootEntryState.Multiboot(entry, infoAddress, bootBase + BootBlock.GdtOffset, stackTop);
        return new LoadedGuestImage(format, state, entry, imageStart, imageEnd, infoAddress, tablesBase);
    }

    private static void WriteSegment(GuestPhysicalMap memory, ReadOnlySpan<byte> image, ImageSegment segment)
    {
        memory.Write(segment.Address, image.Slice(segment.FileOffset, segment.FileSize));
        // Zero the bss explicitly: the RAM may be reused, not freshly allocated.
        ulong address = segment.Address + (ulong)segment.FileSize;
        ulong remaining = segment.MemorySize - (ulong)segment.FileSize;
        while (remaining > 0)
        {
            int chunk = (int)Math.Min(remaining, (ulong)Zeros.Length);
            memory.Write(address, Zeros.AsSpan(0, chunk));
            address += (ulong)chunk;
            remaining -= (ulong)chunk;
        }
    }
}
