using System.Buffers.Binary;
using Actors.HwBackend.Memory;

namespace Actors.HwBackend.Boot;

/// <summary>
/// 4-level page tables that map guest-physical space 1:1 with 2 MiB pages, so a 64-bit image
/// entered in long mode sees every address, RAM and MMIO alike, where it expects it.
/// </summary>
internal static class IdentityPageTables
{
    public const ulong MinimumCoverage = 4UL << 30;

    private const ulong GiB = 1UL << 30;
    private const ulong LargePageSize = 2UL << 20;
    private const ulong MaximumCoverage = 512 * GiB; // one PML4 entry's worth
    private const int PageSize = GuestRam.PageSize;

    private const ulong Present = 1UL << 0;
    private const ulong Writable = 1UL << 1;
    private const ulong WriteThrough = 1UL << 3;
    private const ulong CacheDisable = 1UL << 4;
    private const ulong Accessed = 1UL << 5;
    private const ulong Dirty = 1UL << 6;
    private const ulong LargePage = 1UL << 7;

    /// <summary>At least 4 GiB (so the APIC windows are mapped), more when RAM or MMIO lie higher.</summary>
    public static ulong CoverageFor(GuestPhysicalMap memory)
    {
        ulong highest = memory.Regions.Count == 0 ? 0 : memory.Regions.Max(r => r.End);
        ulong coverage = Math.Max(MinimumCoverage, (highest + GiB - 1) & ~(GiB - 1));
        return Math.Min(coverage, MaximumCoverage);
    }

    public static int SizeFor(ulong coverage) => (int)(2 + (coverage / GiB)) * PageSize;

    /// <summary>Builds PML4, PDPT and the page directories for placement at <paramref name="tablesBase"/>; the PML4 comes first.</summary>
    public static byte[] Build(ulong tablesBase, ulong coverage, GuestPhysicalMap memory)
    {
        int directories = (int)(coverage / GiB);
        var tables = new byte[SizeFor(coverage)];
        var span = tables.AsSpan();
        ulong pdpt = tablesBase + PageSize;
        BinaryPrimitives.WriteUInt64LittleEndian(span, pdpt | Present | Writable | Accessed);
        for (int d = 0; d < directories; d++)
        {
            ulong directory = tablesBase + (ulong)((2 + d) * PageSize);
            BinaryPrimitives.WriteUInt64LittleEndian(span[(PageSize + (d * 8))..], directory | Present | Writable | Accessed);
            for (int e = 0; e < 512; e++)
            {
                ulong address = ((ulong)d * GiB) + ((ulong)e * LargePageSize);
                // Accessed/dirty preset so the CPU never has to write the tables; device pages
                // uncached so a KVM guest's APIC accesses are not combined or reordered.
                ulong entry = address | Present | Writable | Accessed | Dirty | LargePage;
                if (TouchesMmio(memory, address))
                    entry |= CacheDisable | WriteThrough;
                BinaryPrimitives.WriteUInt64LittleEndian(span[(((2 + d) * PageSize) + (e * 8))..], entry);
            }
        }
        return tables;
    }

    private static bool TouchesMmio(GuestPhysicalMap memory, ulong pageBase)
    {
        foreach (var region in memory.Regions)
        {
            if (region.Kind == GuestMemoryRegionKind.Mmio && region.Overlaps(pageBase, LargePageSize))
                return true;
        }
        return false;
    }
}
