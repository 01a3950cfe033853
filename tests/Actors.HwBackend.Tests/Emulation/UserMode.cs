using System.Buffers.Binary;
using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// Ring 3 on a <see cref="LongModeMachine"/>: user segments laid out as SYSRET expects them from
/// STAR[63:48] = <see cref="SysretBase"/> (32-bit code, data, 64-bit code), the user bit in the
/// identity page tables, and a TSS (at linear 0) whose RSP0 and IST1 give the kernel its stacks.
/// </summary>
internal static class UserMode
{
    public const ushort SysretBase = 0x20;
    public const ushort Code32Selector = SysretBase | 3, DataSelector = (SysretBase + 8) | 3, Code64Selector = (SysretBase + 16) | 3;
    public const ulong KernelStack = 0xB_0000, IstStack = 0xA_0000;
    public const ushort GdtLimit = 0x37;

    public static void Prepare(LongModeMachine m)
    {
        var memory = m.Machine.Memory;
        memory.WriteValue(LongModeMachine.GdtBase + 0x20, 0x00CF_FB00_0000_FFFFUL); // 32-bit code, DPL 3
        memory.WriteValue(LongModeMachine.GdtBase + 0x28, 0x00CF_F300_0000_FFFFUL); // data, DPL 3
        memory.WriteValue(LongModeMachine.GdtBase + 0x30, 0x00AF_FB00_0000_FFFFUL); // 64-bit code, DPL 3

        // PML4[0], the four PDPT entries and the first 4 GiB of 2 MiB pages become user pages.
        const ulong user = 1UL << 2;
        ulong pml4 = LongModeMachine.TablesBase, pdpt = pml4 + 0x1000;
        memory.WriteValue(pml4, memory.ReadValue<ulong>(pml4) | user);
        for (ulong d = 0; d < 4; d++)
        {
            memory.WriteValue(pdpt + (d * 8), memory.ReadValue<ulong>(pdpt + (d * 8)) | user);
            ulong directory = pml4 + ((2 + d) * 0x1000);
            for (ulong e = 0; e < 512; e++)
                memory.WriteValue(directory + (e * 8), memory.ReadValue<ulong>(directory + (e * 8)) | user);
        }

        var tss = new byte[0x68];
        BinaryPrimitives.WriteUInt64LittleEndian(tss.AsSpan(4), KernelStack);
        BinaryPrimitives.WriteUInt64LittleEndian(tss.AsSpan(0x24), IstStack);
        memory.Write(0, tss);
    }

    /// <summary>The state that starts 32-bit code at CPL 3 (compatibility mode) at <paramref name="rip"/>.</summary>
    public static VpState Compat32State(LongModeMachine m, ulong rip, ulong rflags)
    {
        var s = m.InitialState(rip);
        s.Gdtr = new DescriptorTableRegister(LongModeMachine.GdtBase, GdtLimit);
        s.Cs = SegmentRegister.Flat32(Code32Selector, code: true) with { Dpl = 3 };
        var data = SegmentRegister.Flat32(DataSelector, code: false) with { Dpl = 3 };
        s.Ss = data;
        s.Ds = data;
        s.Es = data;
        s.Rflags = rflags;
        return s;
    }
}
