using System.Buffers.Binary;
using Actors.HwBackend.Abstractions;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>A guest's own boot path: real mode → 32-bit protected mode → long mode, as a boot sector would do it.</summary>
public sealed class CpuModeSwitchTests
{
    private const ulong Real = 0x7C00, Gdtr = 0x7E00, Gdt = 0x7E10, Protected = 0x8000, Long = 0x9000;

    [Fact]
    public void Real_mode_code_switches_to_protected_then_long_mode()
    {
        using var m = new LongModeMachine();
        var gdt = new byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(gdt.AsSpan(8), 0x00CF_9A00_0000_FFFF); // 0x08: 32-bit code
        BinaryPrimitives.WriteUInt64LittleEndian(gdt.AsSpan(16), 0x00CF_9200_0000_FFFF); // 0x10: data
        BinaryPrimitives.WriteUInt64LittleEndian(gdt.AsSpan(24), 0x00AF_9A00_0000_FFFF); // 0x18: 64-bit code
        m.Machine.Memory.Write(Gdt, gdt);
        var gdtr = new byte[6];
        BinaryPrimitives.WriteUInt16LittleEndian(gdtr, 31);
        BinaryPrimitives.WriteUInt32LittleEndian(gdtr.AsSpan(2), (uint)Gdt);
        m.Machine.Memory.Write(Gdtr, gdtr);

        m.Load(16, Real, a =>
        {
            a.cli();
            a.db(0x0F, 0x01, 0x16, 0x00, 0x7E); // lgdt [0x7E00]
            a.mov(eax, cr0);
            a.or(eax, 1);
            a.mov(cr0, eax);
            a.db(0x66, 0xEA); // jmp dword 0x08:Protected
            a.dd((uint)Protected);
            a.dw(0x08);
        });
        m.Load(32, Protected, a =>
        {
            a.mov(ax, 0x10);
            a.mov(ds, ax);
            a.mov(ss, ax);
            a.mov(esp, 0x7000);
            a.mov(eax, cr4);
            a.or(eax, 0x20);
            a.mov(cr4, eax);
            a.mov(eax, (uint)LongModeMachine.TablesBase);
            a.mov(cr3, eax);
            a.mov(ecx, 0xC000_0080);
            a.rdmsr();
            a.or(eax, 0x100);
            a.wrmsr();
            a.mov(eax, cr0);
            a.or(eax, unchecked((int)0x8000_0000));
            a.mov(cr0, eax);
            a.db(0xEA); // jmp 0x18:Long
            a.dd((uint)Long);
            a.dw(0x18);
        });
        m.Load(64, Long, a =>
        {
            a.mov(rax, 0x1122_3344_5566_7788);
            a.push(rax);
            a.pop(rbx);
            a.hlt();
        });

        m.Vp.SetState(new VpState
        {
            Rip = Real,
            Cs = SegmentRegister.RealMode(0, code: true),
            Ds = SegmentRegister.RealMode(0),
            Es = SegmentRegister.RealMode(0),
            Ss = SegmentRegister.RealMode(0),
            Fs = SegmentRegister.RealMode(0),
            Gs = SegmentRegister.RealMode(0),
            Gdtr = new DescriptorTableRegister(0, 0xFFFF),
            Idtr = new DescriptorTableRegister(0, 0x3FF),
        });

        var exit = m.Run();

        var s = m.Vp.GetState();
        Assert.Equal(VpExitReason.Halt, exit.Reason);
        Assert.Equal(0x1122_3344_5566_7788UL, s.Gprs[3]);
        Assert.True(s.Cs.Long);
        Assert.Equal(0x18, s.Cs.Selector);
        Assert.Equal(0x500UL, s.Efer & 0x500); // LME and LMA
    }
}
