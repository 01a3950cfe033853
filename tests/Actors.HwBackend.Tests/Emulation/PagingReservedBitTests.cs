using System.Buffers.Binary;
using Actors.HwBackend.Abstractions;
using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// A page walk that meets a present entry with a reserved bit set raises #PF whose error code has
/// P=1 and RSVD (bit 3) set, plus W/U/I as for any fault (SDM vol. 3 §4.7). MAXPHYADDR is 40
/// (<see cref="Emulation.Cpu.PhysicalAddressBits"/>), so bits 51:40 are reserved in every 64-bit entry.
/// PAE PDPTEs are checked when MOV to CR3 loads them: #GP(0), CR3 unchanged (§4.4.1).
/// </summary>
public sealed class PagingReservedBitTests
{
    // 4-level: PML4[1] (linear 0x80_0000_0000) leads into tables of the test's own.
    private const ulong Pdpt = 0x400000, Pd = 0x401000, Pt = 0x402000, Page = 0x403000;
    private const ulong Linear = 0x80_0000_0000;
    private const ulong P = 1, W = 2, PS = 0x80, NX = 1UL << 63;
    private const ulong ErrPresent = 1, ErrWrite = 2, ErrRsvd = 8, ErrFetch = 0x10;
    private const ulong PfHandler = LongModeMachine.HandlerBase, GpHandler = LongModeMachine.HandlerBase + 0x100;

    public enum Level { Pml4e, Pdpte, Pde, Pte }

    /// <summary>Bit 40 (the first above MAXPHYADDR) and bit 51 (the last of the address field) at every level: #PF, error P|RSVD = 9 for a read.</summary>
    [Theory]
    [InlineData(Level.Pml4e, 40)]
    [InlineData(Level.Pdpte, 40)]
    [InlineData(Level.Pde, 51)]
    [InlineData(Level.Pte, 40)]
    [InlineData(Level.Pte, 51)]
    public void Physical_address_bit_above_MAXPHYADDR_is_reserved_at_every_level(Level level, int bit)
    {
        using var m = Machine(out var tables);
        tables[(int)level] |= 1UL << bit;
        WriteTables(m, tables);

        var s = RunAccess(m, a => a.mov(rax, __qword_ptr[rcx]));

        Assert.Equal(14UL, s.Gprs[7]);
        Assert.Equal(ErrPresent | ErrRsvd, s.Gprs[3]);
        Assert.Equal(Linear + 0x10, s.Gprs[2]); // CR2
    }

    [Fact]
    public void A_write_meeting_PS_in_a_PML4E_reports_P_W_and_RSVD()
    {
        using var m = Machine(out var tables);
        tables[0] |= PS;
        WriteTables(m, tables);

        var s = RunAccess(m, a => a.mov(__qword_ptr[rcx], rax));

        Assert.Equal(14UL, s.Gprs[7]);
        Assert.Equal(ErrPresent | ErrWrite | ErrRsvd, s.Gprs[3]); // 0xB
    }

    [Fact]
    public void A_1GiB_page_maps_and_its_bits_29_13_are_reserved()
    {
        using var m = Machine(out var tables);
        tables[1] = P | W | PS; // a 1 GiB page: linear 0x80_0000_0000 -> physical 0
        WriteTables(m, tables);
        m.Machine.Memory.WriteValue(0x10UL, 0x1234_5678_9ABC_DEF0UL);

        var ok = RunAccess(m, a => a.mov(rax, __qword_ptr[rcx]));
        Assert.Equal(0UL, ok.Gprs[7]); // no fault
        Assert.Equal(0x1234_5678_9ABC_DEF0UL, ok.Gprs[0]);

        using var m2 = Machine(out tables);
        tables[1] = (1UL << 13) | P | W | PS;
        WriteTables(m2, tables);
        var s = RunAccess(m2, a => a.mov(rax, __qword_ptr[rcx]));
        Assert.Equal(14UL, s.Gprs[7]);
        Assert.Equal(ErrPresent | ErrRsvd, s.Gprs[3]);
    }

    [Theory]
    [InlineData(13, true)]
    [InlineData(20, true)]
    [InlineData(12, false)] // PAT bit of a 2 MiB page: not reserved
    [InlineData(21, false)] // an address bit (2 MiB aligned)
    public void A_2MiB_page_has_bits_20_13_reserved(int bit, bool reserved)
    {
        using var m = Machine(out var tables);
        tables[2] = 0x20_0000 | P | W | PS | (1UL << bit);
        WriteTables(m, tables);

        var s = RunAccess(m, a => a.mov(rax, __qword_ptr[rcx]));

        Assert.Equal(reserved ? 14UL : 0UL, s.Gprs[7]);
        if (reserved) Assert.Equal(ErrPresent | ErrRsvd, s.Gprs[3]);
    }

    [Fact]
    public void XD_is_reserved_while_EFER_NXE_is_clear()
    {
        using var m = Machine(out var tables);
        tables[3] |= NX;
        WriteTables(m, tables);
        var state = m.InitialState();
        state.Efer = 0x501; // LME, LMA, SCE: no NXE

        var s = RunAccess(m, a => a.mov(rax, __qword_ptr[rcx]), state);

        Assert.Equal(14UL, s.Gprs[7]);
        Assert.Equal(ErrPresent | ErrRsvd, s.Gprs[3]);
    }

    [Fact]
    public void An_instruction_fetch_through_a_reserved_entry_reports_I()
    {
        using var m = Machine(out var tables);
        tables[3] |= 1UL << 45;
        WriteTables(m, tables);

        var s = RunAccess(m, a => a.call(rcx));

        Assert.Equal(14UL, s.Gprs[7]);
        Assert.Equal(ErrPresent | ErrRsvd | ErrFetch, s.Gprs[3]); // NXE is on: I is reported
        Assert.Equal(Linear + 0x10, s.Gprs[2]);
    }

    /// <summary>The faulting walk is not cached: the same access faults again after the handler returns.</summary>
    [Fact]
    public void A_reserved_bit_fault_is_not_cached_in_the_TLB()
    {
        using var m = Machine(out var tables);
        tables[2] |= 1UL << 48;
        WriteTables(m, tables);
        m.Load(PfHandler, a =>
        {
            a.pop(rbx);
            a.inc(r8);
            a.add(__qword_ptr[rsp], 3); // past the 3-byte MOV
            a.iretq();
        });
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(rcx, Linear + 0x10);
            a.mov(rax, __qword_ptr[rcx]);
            a.mov(rax, __qword_ptr[rcx]);
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(2UL, s.Gprs[8]);
        Assert.Equal(ErrPresent | ErrRsvd, s.Gprs[3]);
    }

    // --- PAE and 32-bit paging (32-bit protected mode, IDT of 32-bit interrupt gates) ---

    private const ulong Code32 = 0x10000, Gdt32 = 0x5000, Idt32 = 0x6000, Pdpt32 = 0x200000, Pdpt32b = 0x203000, Pd32 = 0x201000;

    [Fact]
    public void PAE_2MiB_PDE_with_bit_13_set_raises_PF_with_RSVD()
    {
        using var m = new LongModeMachine();
        var mem = m.Machine.Memory;
        mem.WriteValue(Pdpt32, Pd32 | P);
        mem.WriteValue(Pd32, P | W | PS); // 0-2 MiB identity
        mem.WriteValue(Pd32 + 8, 0x20_0000 | P | W | PS | (1UL << 13)); // 2-4 MiB: reserved bit 13
        Place32(m, a =>
        {
            a.mov(eax, __dword_ptr[0x200010]);
            a.hlt();
        });
        m.Vp.SetState(ProtectedState(cr0: 0x8000_0011, cr3: Pdpt32, cr4: 0x20));

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(14UL, s.Gprs[7]);
        Assert.Equal(ErrPresent | ErrRsvd, s.Gprs[3]);
        Assert.Equal(0x200010UL, s.Gprs[2]);
    }

    [Theory]
    [InlineData(1)] // bits 2:1
    [InlineData(5)] // bits 8:5
    [InlineData(40)] // above MAXPHYADDR
    [InlineData(63)] // XD does not exist in a PDPTE
    public void MOV_to_CR3_with_a_reserved_bit_in_a_present_PAE_PDPTE_raises_GP0_and_keeps_CR3(int bit)
    {
        using var m = new LongModeMachine();
        var mem = m.Machine.Memory;
        mem.WriteValue(Pdpt32, Pd32 | P);
        mem.WriteValue(Pd32, P | W | PS);
        mem.WriteValue(Pdpt32b, Pd32 | P);
        mem.WriteValue(Pdpt32b + 16, Pd32 | P | (1UL << bit));
        Place32(m, a =>
        {
            a.mov(eax, (uint)Pdpt32b);
            a.mov(cr3, eax);
            a.mov(edi, 0xBAD);
            a.hlt();
        });
        m.Vp.SetState(ProtectedState(cr0: 0x8000_0011, cr3: Pdpt32, cr4: 0x20));

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(13UL, s.Gprs[7]);
        Assert.Equal(0UL, s.Gprs[3]);
        Assert.Equal(Pdpt32, s.Cr3);
    }

    [Fact]
    public void MOV_to_CR3_accepts_a_reserved_bit_in_a_PDPTE_that_is_not_present()
    {
        using var m = new LongModeMachine();
        var mem = m.Machine.Memory;
        mem.WriteValue(Pdpt32, Pd32 | P);
        mem.WriteValue(Pd32, P | W | PS);
        mem.WriteValue(Pdpt32b, Pd32 | P);
        mem.WriteValue(Pdpt32b + 16, 0x6UL); // not present: the other bits are ignored
        Place32(m, a =>
        {
            a.mov(eax, (uint)Pdpt32b);
            a.mov(cr3, eax);
            a.hlt();
        });
        m.Vp.SetState(ProtectedState(cr0: 0x8000_0011, cr3: Pdpt32, cr4: 0x20));

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(Pdpt32b, m.Vp.GetState().Cr3);
        Assert.Equal(0UL, m.Vp.GetState().Gprs[7]);
    }

    [Fact]
    public void A_32_bit_4MiB_PDE_has_bit_21_reserved()
    {
        using var m = new LongModeMachine();
        var mem = m.Machine.Memory;
        mem.WriteValue(Pdpt32 + 0 * 4, 0x0000_0083u); // 0-4 MiB identity
        mem.WriteValue(Pdpt32 + 2 * 4, 0x0040_0083u | (1u << 21)); // 8-12 MiB: reserved bit 21
        Place32(m, a =>
        {
            a.mov(eax, __dword_ptr[0x801234]);
            a.hlt();
        });
        m.Vp.SetState(ProtectedState(cr0: 0x8000_0011, cr3: Pdpt32, cr4: 0x10));

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(14UL, s.Gprs[7]);
        Assert.Equal(ErrPresent | ErrRsvd, s.Gprs[3]);
        Assert.Equal(0x801234UL, s.Gprs[2]);
    }

    /// <summary>PML4E, PDPTE, PDE, PTE mapping <see cref="Linear"/> through 4 KiB tables to <see cref="Page"/>.</summary>
    private static LongModeMachine Machine(out ulong[] tables)
    {
        var m = new LongModeMachine();
        tables = [Pdpt | P | W, Pd | P | W, Pt | P | W, Page | P | W];
        m.Load(PfHandler, a =>
        {
            a.pop(rbx); // error code
            a.mov(rdx, cr2);
            a.mov(edi, 14);
            a.hlt();
        });
        m.Load(GpHandler, a =>
        {
            a.pop(rbx);
            a.mov(edi, 13);
            a.hlt();
        });
        m.SetGate(14, PfHandler);
        m.SetGate(13, GpHandler);
        return m;
    }

    private static void WriteTables(LongModeMachine m, ulong[] tables)
    {
        var mem = m.Machine.Memory;
        mem.WriteValue(LongModeMachine.TablesBase + 8, tables[0]); // PML4[1]
        mem.WriteValue(Pdpt, tables[1]);
        mem.WriteValue(Pd, tables[2]);
        mem.WriteValue(Pt, tables[3]);
    }

    /// <summary>Runs <c>mov rcx, Linear+0x10</c> then <paramref name="access"/> then HLT; RDI is the vector taken (0 for none).</summary>
    private static VpState RunAccess(LongModeMachine m, Action<Assembler> access, VpState? state = null)
    {
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(rcx, Linear + 0x10);
            access(a);
            a.hlt();
        });
        m.Vp.SetState(state ?? m.InitialState());
        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        return m.Vp.GetState();
    }

    private static VpState ProtectedState(ulong cr0, ulong cr3, ulong cr4) => new()
    {
        Rip = Code32,
        Gprs = { [4] = 0x8000 },
        Cs = SegmentRegister.Flat32(0x08, code: true),
        Ds = SegmentRegister.Flat32(0x10, code: false),
        Es = SegmentRegister.Flat32(0x10, code: false),
        Ss = SegmentRegister.Flat32(0x10, code: false),
        Fs = SegmentRegister.Flat32(0x10, code: false),
        Gs = SegmentRegister.Flat32(0x10, code: false),
        Gdtr = new DescriptorTableRegister(Gdt32, 23),
        Idtr = new DescriptorTableRegister(Idt32, 0x7F),
        Cr0 = cr0,
        Cr3 = cr3,
        Cr4 = cr4,
    };

    /// <summary>A flat 32-bit GDT, #GP and #PF handlers (32-bit interrupt gates) that record the vector in EDI, the error code in EBX and CR2 in EDX.</summary>
    private static void Place32(LongModeMachine m, Action<Assembler> emit)
    {
        var mem = m.Machine.Memory;
        var gdt = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(gdt.AsSpan(8), 0x00CF_9A00_0000_FFFF);
        BinaryPrimitives.WriteUInt64LittleEndian(gdt.AsSpan(16), 0x00CF_9200_0000_FFFF);
        mem.Write(Gdt32, gdt);
        foreach (int vector in new[] { 13, 14 })
        {
            ulong handler = 0x30000 + (ulong)vector * 0x10;
            m.Load(32, handler, a =>
            {
                a.pop(ebx);
                a.mov(edx, cr2);
                a.mov(edi, vector);
                a.hlt();
            });
            mem.WriteValue(Idt32 + (ulong)vector * 8, ((handler & 0xFFFF0000) << 32) | (0x8E00UL << 32) | (0x08UL << 16) | (handler & 0xFFFF));
        }
        m.Load(32, Code32, emit);
    }
}
