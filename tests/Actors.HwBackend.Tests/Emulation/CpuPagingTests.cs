using System.Buffers.Binary;
using Actors.HwBackend.Abstractions;
using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>32-bit and PAE paging (4-level paging is what every 64-bit test runs on), and segment bases in 32-bit protected mode.</summary>
public sealed class CpuPagingTests
{
    private const ulong Code = 0x10000, Gdt = 0x5000, Directory = 0x200000, Table = 0x202000, Target = 0x300000;

    [Fact]
    public void Two_level_32_bit_paging_maps_4K_and_4M_pages_and_sets_accessed_and_dirty()
    {
        using var m = new LongModeMachine();
        var mem = m.Machine.Memory;
        mem.WriteValue(Directory + 0 * 4, 0x0000_0083u); // 0-4 MiB: 4 MiB page, identity
        mem.WriteValue(Directory + 1 * 4, (uint)Table | 0x3u); // 4-8 MiB: page table
        mem.WriteValue(Directory + 2 * 4, 0x0040_0083u); // 8-12 MiB: 4 MiB page at 4 MiB
        mem.WriteValue(Table + 5 * 4, (uint)Target | 0x3u); // 0x405000 -> 0x300000
        mem.WriteValue(Target + 0x10, 0xCAFE_BABEu);
        mem.WriteValue(0x40_1234UL, 0x1234_5678u);

        Place32(m, a =>
        {
            a.mov(eax, __dword_ptr[0x405010]);
            a.mov(__dword_ptr[0x405020], 0x77);
            a.mov(ebx, __dword_ptr[0x801234]);
            a.hlt();
        });
        m.Vp.SetState(ProtectedState(cr0: 0x8000_0011, cr3: Directory, cr4: 0x10));

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(0xCAFE_BABEUL, s.Gprs[0]);
        Assert.Equal(0x1234_5678UL, s.Gprs[3]);
        Assert.Equal(0x77u, mem.ReadValue<uint>(Target + 0x20));
        Assert.Equal(0x60u, mem.ReadValue<uint>(Table + 5 * 4) & 0x60); // accessed and dirty
        Assert.Equal(0x20u, mem.ReadValue<uint>(Directory + 4) & 0x20);
    }

    [Fact]
    public void PAE_paging_maps_through_the_PDPT()
    {
        using var m = new LongModeMachine();
        var mem = m.Machine.Memory;
        const ulong pd = 0x201000;
        mem.WriteValue(Directory, pd | 0x1);
        mem.WriteValue(pd + 0 * 8, 0x83UL); // 0-2 MiB identity, large
        mem.WriteValue(pd + 2 * 8, Table | 0x3); // 4-6 MiB: page table
        mem.WriteValue(Table + 5 * 8, Target | 0x3);
        mem.WriteValue(Target + 0x10, 0xFEED_F00Du);

        Place32(m, a =>
        {
            a.mov(eax, __dword_ptr[0x405010]);
            a.hlt();
        });
        m.Vp.SetState(ProtectedState(cr0: 0x8000_0011, cr3: Directory, cr4: 0x20));

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(0xFEED_F00DUL, m.Vp.GetState().Gprs[0]);
        Assert.Equal(0x20UL, mem.ReadValue<ulong>(Table + 5 * 8) & 0x60); // accessed, not dirty
    }

    [Fact]
    public void Segment_base_applies_to_data_accesses_in_32_bit_protected_mode()
    {
        using var m = new LongModeMachine();
        var mem = m.Machine.Memory;
        mem.WriteValue(0x34_0010UL, 0xDEAD_BEEFu);

        Place32(m, a =>
        {
            a.mov(ax, 0x18);
            a.mov(es, ax);
            a.db(0x26, 0xA1, 0x10, 0x00, 0x00, 0x00); // mov eax, es:[0x10]
            a.hlt();
        });
        m.Vp.SetState(ProtectedState(cr0: 0x11, cr3: 0, cr4: 0));

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(0xDEAD_BEEFUL, s.Gprs[0]);
        Assert.Equal(0x34_0000UL, s.Es.Base);
    }

    private static VpState ProtectedState(ulong cr0, ulong cr3, ulong cr4) => new()
    {
        Rip = Code,
        Gprs = { [4] = 0x8000 },
        Cs = SegmentRegister.Flat32(0x08, code: true),
        Ds = SegmentRegister.Flat32(0x10, code: false),
        Es = SegmentRegister.Flat32(0x10, code: false),
        Ss = SegmentRegister.Flat32(0x10, code: false),
        Fs = SegmentRegister.Flat32(0x10, code: false),
        Gs = SegmentRegister.Flat32(0x10, code: false),
        Gdtr = new DescriptorTableRegister(Gdt, 31),
        Idtr = new DescriptorTableRegister(0, 0),
        Cr0 = cr0,
        Cr3 = cr3,
        Cr4 = cr4,
    };

    private static void Place32(LongModeMachine m, Action<Assembler> emit)
    {
        var gdt = new byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(gdt.AsSpan(8), 0x00CF_9A00_0000_FFFF);
        BinaryPrimitives.WriteUInt64LittleEndian(gdt.AsSpan(16), 0x00CF_9200_0000_FFFF);
        BinaryPrimitives.WriteUInt64LittleEndian(gdt.AsSpan(24), 0x0040_9234_0000_FFFF); // data, base 0x340000, 64 KiB
        m.Machine.Memory.Write(Gdt, gdt);
        m.Load(32, Code, emit);
    }
}
