namespace Actors.HwBackend.Emulation;

/// <summary>
/// The last few pages that system-structure reads (GDT, IDT, TSS) translated, and where each is in host
/// memory, good for one TLB generation. An interrupt reads the IDT and a code descriptor and IRET reads
/// two descriptors: two or three pages that every delivery uses again, so one entry would make them
/// evict each other and cost a page walk per read.
/// </summary>
internal unsafe struct SystemPageCache
{
    private const int Entries = 4;
    private fixed ulong _pages[Entries];
    private fixed long _hosts[Entries];
    private long _generation;
    private int _next;

    /// <summary>Where linear page <paramref name="page"/> is in host memory, or null when it was not kept in <paramref name="generation"/>.</summary>
    public byte* Find(ulong page, long generation)
    {
        if (_generation != generation)
            return null;
        for (int i = 0; i < Entries; i++)
        {
            if (_pages[i] == page)
                return (byte*)_hosts[i];
        }
        return null;
    }

    /// <summary>Keeps <paramref name="page"/> at <paramref name="host"/>, dropping the oldest entry, or all of them when the generation moved on.</summary>
    public void Add(ulong page, byte* host, long generation)
    {
        if (_generation != generation)
        {
            for (int i = 0; i < Entries; i++)
                _pages[i] = ulong.MaxValue;
            _generation = generation;
        }
        int entry = _next;
        _next = (entry + 1) % Entries;
        _pages[entry] = page;
        _hosts[entry] = (long)host;
    }
}
