namespace Actors.HwBackend.Memory;

/// <summary>
/// The guest-physical address space of one machine: RAM regions over one <see cref="GuestRam"/>
/// block and MMIO regions that the vCPU reports as exits. Addresses that no region covers read as
/// all-ones and ignore writes, as on a PC bus with nothing decoding the address.
/// Host-side accessors are bounds-checked and mark pages dirty; they are for loaders, devices and
/// migration, not for the vCPU's hot path (which caches host pointers in its TLB).
/// </summary>
public sealed unsafe class GuestPhysicalMap
{
    private GuestMemoryRegion[] _regions = [];

    public GuestPhysicalMap(GuestRam ram)
    {
        Ram = ram;
        DirtyLog = new DirtyPageBitmap(ram.PageCount);
    }

    /// <summary>The map a platform's layout describes, over <paramref name="ram"/>: what every backend's machine starts from.</summary>
    public static GuestPhysicalMap For(GuestRam ram, Abstractions.GuestMemoryLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var map = new GuestPhysicalMap(ram);
        foreach (Abstractions.RamRegion region in layout.Ram)
            map.AddRam(region.Name, region.Base, region.Size, region.RamOffset);
        foreach (Abstractions.MmioWindow window in layout.Mmio)
            map.AddMmio(window.Name, window.Base, window.Size);
        return map;
    }

    public GuestRam Ram { get; }

    /// <summary>Dirty pages, indexed by page number within <see cref="Ram"/> (not by GPA).</summary>
    public DirtyPageBitmap DirtyLog { get; }

    public IReadOnlyList<GuestMemoryRegion> Regions => _regions;

    public IGuestMemoryObserver? Observer { get; set; }

    public void AddRam(string name, ulong gpa, ulong size, ulong ramOffset)
    {
        if (ramOffset > Ram.Size || size > Ram.Size - ramOffset)
            throw new ArgumentOutOfRangeException(nameof(size), $"RAM region '{name}' exceeds guest RAM");
        Add(new GuestMemoryRegion(name, GuestMemoryRegionKind.Ram, gpa, size, ramOffset));
    }

    public void AddMmio(string name, ulong gpa, ulong size) =>
        Add(new GuestMemoryRegion(name, GuestMemoryRegionKind.Mmio, gpa, size));

    private void Add(GuestMemoryRegion region)
    {
        if (region.Size == 0 || region.Base % GuestRam.PageSize != 0 || region.Size % GuestRam.PageSize != 0)
            throw new ArgumentException($"region '{region.Name}' must be a non-empty, page-aligned range");
        if (region.Base + region.Size < region.Base)
            throw new ArgumentException($"region '{region.Name}' wraps the address space");
        foreach (var r in _regions)
        {
            if (r.Overlaps(region.Base, region.Size))
                throw new ArgumentException($"region '{region.Name}' [0x{region.Base:x}, 0x{region.End:x}) overlaps '{r.Name}'");
        }
        _regions = [.. _regions, region];
        Array.Sort(_regions, (a, b) => a.Base.CompareTo(b.Base));
    }

    public GuestMemoryRegion? FindRegion(ulong gpa)
    {
        foreach (var r in _regions)
        {
            if (r.Contains(gpa)) return r;
        }
        return null;
    }

    /// <summary>
    /// Host pointer for the RAM page holding <paramref name="gpa"/>, or null when the page is
    /// MMIO or unmapped. The pointer is valid for the rest of that 4 KiB page.
    /// </summary>
    public byte* TryGetRamPointer(ulong gpa)
    {
        var regions = _regions;
        for (int i = 0; i < regions.Length; i++)
        {
            var r = regions[i];
            if (r.Kind == GuestMemoryRegionKind.Ram && gpa >= r.Base && gpa - r.Base < r.Size)
                return Ram.HostPointer + r.RamOffset + (gpa - r.Base);
        }
        return null;
    }

    /// <summary>True when every byte of [gpa, gpa+length) is RAM.</summary>
    public bool IsRam(ulong gpa, ulong length)
    {
        while (length > 0)
        {
            var r = FindRegion(gpa);
            if (r is null || r.Kind != GuestMemoryRegionKind.Ram) return false;
            ulong chunk = Math.Min(length, r.End - gpa);
            gpa += chunk;
            length -= chunk;
        }
        return true;
    }

    /// <summary>Reads guest memory; unmapped and MMIO bytes read as 0xFF.</summary>
    public void Read(ulong gpa, Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            ulong addr = gpa + (ulong)done;
            int chunk = (int)Math.Min((ulong)(destination.Length - done), GuestRam.PageSize - (addr & (GuestRam.PageSize - 1)));
            byte* p = TryGetRamPointer(addr);
            if (p != null)
                new Span<byte>(p, chunk).CopyTo(destination.Slice(done, chunk));
            else
                destination.Slice(done, chunk).Fill(0xFF);
            done += chunk;
        }
    }

    /// <summary>Writes guest RAM, marking pages dirty; refuses ranges that are not wholly RAM.</summary>
    public void Write(ulong gpa, ReadOnlySpan<byte> source)
    {
        if (!IsRam(gpa, (ulong)source.Length))
            throw new ArgumentOutOfRangeException(nameof(gpa), $"guest-physical range 0x{gpa:x}+{source.Length} is not RAM");
        int done = 0;
        while (done < source.Length)
        {
            ulong addr = gpa + (ulong)done;
            int chunk = (int)Math.Min((ulong)(source.Length - done), GuestRam.PageSize - (addr & (GuestRam.PageSize - 1)));
            byte* p = TryGetRamPointer(addr);
            source.Slice(done, chunk).CopyTo(new Span<byte>(p, chunk));
            DirtyLog.MarkDirty((ulong)(p - Ram.HostPointer) / GuestRam.PageSize);
            done += chunk;
        }
        Observer?.OnHostWrite(gpa, (ulong)source.Length);
    }

    /// <summary>
    /// What <see cref="Write"/> does after copying, for a caller that wrote RAM at [<paramref name="gpa"/>,
    /// +<paramref name="length"/>) through a host pointer of its own: marks the pages dirty and tells the
    /// observer (code decoded from them is stale).
    /// </summary>
    public void NoteHostWrite(ulong gpa, ulong length)
    {
        for (ulong page = gpa & ~(ulong)(GuestRam.PageSize - 1); page < gpa + length; page += GuestRam.PageSize)
        {
            byte* p = TryGetRamPointer(page);
            if (p != null)
                DirtyLog.MarkDirty((ulong)(p - Ram.HostPointer) / GuestRam.PageSize);
        }
        Observer?.OnHostWrite(gpa, length);
    }

    /// <summary>
    /// ORs <paramref name="mask"/> into the aligned dword at <paramref name="gpa"/> atomically, as
    /// another processor would, so that a guest updating the same dword at the same time loses
    /// nothing (the SynIC's event flags and message flags need this). Marks the page dirty.
    /// Returns the old value.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The dword is not aligned, or not RAM.</exception>
    public uint AtomicOr32(ulong gpa, uint mask)
    {
        byte* p = (gpa & 3) == 0 ? TryGetRamPointer(gpa) : null;
        if (p == null)
            throw new ArgumentOutOfRangeException(nameof(gpa), $"guest-physical dword 0x{gpa:x} is not aligned RAM");
        uint old = Interlocked.Or(ref *(uint*)p, mask);
        DirtyLog.MarkDirty((ulong)(p - Ram.HostPointer) / GuestRam.PageSize);
        Observer?.OnHostWrite(gpa, sizeof(uint));
        return old;
    }

    public T ReadValue<T>(ulong gpa) where T : unmanaged
    {
        T value = default;
        Read(gpa, new Span<byte>(&value, sizeof(T)));
        return value;
    }

    public void WriteValue<T>(ulong gpa, T value) where T : unmanaged =>
        Write(gpa, new ReadOnlySpan<byte>(&value, sizeof(T)));
}
