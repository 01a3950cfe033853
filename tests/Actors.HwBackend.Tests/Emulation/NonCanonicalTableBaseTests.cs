using System.Buffers.Binary;
using Actors.HwBackend.Abstractions;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// 64-bit mode refuses non-canonical descriptor-table bases (SDM vol. 3 §3.3.7.1 and the LGDT/LIDT/LLDT/LTR
/// exception lists): LGDT/LIDT raise #GP(0) and keep GDTR/IDTR; LLDT/LTR raise #GP(selector) for a
/// 16-byte system descriptor whose base is not canonical, and keep LDTR/TR.
/// </summary>
public sealed class NonCanonicalTableBaseTests
{
    private const ulong Operand = 0x50000, GpVector = 13;
    private const ushort LdtSelector = 0x18, TssSelector = 0x28;
    private const ulong NonCanonical = 0x0000_8000_0000_0000;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Lgdt_or_Lidt_with_a_non_canonical_base_raises_GP0_and_keeps_the_register(bool idt)
    {
        using var m = Machine();
        m.Machine.Memory.WriteValue(Operand, (ushort)0xFFF);
        m.Machine.Memory.WriteValue(Operand + 2, NonCanonical);
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(rcx, Operand);
            if (idt) a.lidt(__[rcx]); else a.lgdt(__[rcx]);
            a.mov(rdx, 0xBAD);
            a.hlt();
        });
        var before = State(m);
        m.Vp.SetState(before);

        var s = RunToHandler(m);
        Assert.Equal(0UL, s.Gprs[3]); // #GP(0)
        Assert.Equal(LongModeMachine.CodeBase + 10, s.Gprs[0]); // RIP of the LGDT/LIDT (after the 10-byte MOV)
        Assert.Equal(0UL, s.Gprs[2]);
        Assert.Equal(before.Gdtr.Base, s.Gdtr.Base);
        Assert.Equal(before.Gdtr.Limit, s.Gdtr.Limit);
        Assert.Equal(before.Idtr.Base, s.Idtr.Base);
        Assert.Equal(before.Idtr.Limit, s.Idtr.Limit);
    }

    [Fact]
    public void Lgdt_with_a_non_canonical_operand_address_raises_GP0()
    {
        using var m = Machine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(rcx, NonCanonical);
            a.lgdt(__[rcx]);
            a.hlt();
        });
        m.Vp.SetState(State(m));

        var s = RunToHandler(m);
        Assert.Equal(0UL, s.Gprs[3]);
        Assert.Equal(LongModeMachine.GdtBase, s.Gdtr.Base);
    }

    [Fact]
    public void Lgdt_with_a_canonical_high_base_loads_it()
    {
        using var m = Machine();
        m.Machine.Memory.WriteValue(Operand, (ushort)0x27);
        m.Machine.Memory.WriteValue(Operand + 2, 0xFFFF_8000_0000_1000UL);
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(rcx, Operand);
            a.lgdt(__[rcx]);
            a.hlt();
        });
        m.Vp.SetState(State(m));

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(0xFFFF_8000_0000_1000UL, m.Vp.GetState().Gdtr.Base);
    }

    [Theory]
    [InlineData(false, 0x0000_8000u)] // base bits 63:32 = 0x8000: bit 47 set, 63:48 clear
    [InlineData(true, 0x0000_8000u)]
    [InlineData(true, 0x0001_0000u)] // bit 48 set alone
    public void Lldt_or_Ltr_of_a_descriptor_with_a_non_canonical_base_raises_GP_selector(bool ltr, uint baseHigh)
    {
        using var m = Machine(baseHigh);
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(ecx, ltr ? TssSelector : LdtSelector);
            if (ltr) a.ltr(cx); else a.lldt(cx);
            a.hlt();
        });
        var before = State(m);
        m.Vp.SetState(before);

        var s = RunToHandler(m);
        Assert.Equal((ulong)(ltr ? TssSelector : LdtSelector), s.Gprs[3]);
        Assert.Equal(before.Tr.Selector, s.Tr.Selector);
        Assert.Equal(before.Ldtr.Selector, s.Ldtr.Selector);
        // LTR must not have marked the TSS busy: type stays 9 (available 64-bit TSS).
        Assert.Equal(0x89, m.Machine.Memory.ReadValue<byte>(LongModeMachine.GdtBase + TssSelector + 5));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Lldt_or_Ltr_of_a_descriptor_with_a_canonical_high_base_loads_it(bool ltr)
    {
        using var m = Machine(0xFFFF_8000u);
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(ecx, ltr ? TssSelector : LdtSelector);
            if (ltr) a.ltr(cx); else a.lldt(cx);
            a.hlt();
        });
        m.Vp.SetState(State(m));

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        var seg = ltr ? s.Tr : s.Ldtr;
        Assert.Equal(0xFFFF_8000_0006_0000UL, seg.Base);
    }

    /// <summary>A long-mode machine whose GDT also holds a 16-byte LDT descriptor at 0x18 and a 16-byte available TSS at 0x28, both with base bits 63:32 = <paramref name="baseHigh"/>.</summary>
    private static LongModeMachine Machine(uint baseHigh = 0)
    {
        var m = new LongModeMachine();
        var gdt = new byte[32];
        // Base 15:0 = 0, base 23:16 = 0x06, limit 0x67; type 2 (LDT) and 9 (available 64-bit TSS), present.
        BinaryPrimitives.WriteUInt64LittleEndian(gdt, 0x0000_8206_0000_0067);
        BinaryPrimitives.WriteUInt64LittleEndian(gdt.AsSpan(8), baseHigh);
        BinaryPrimitives.WriteUInt64LittleEndian(gdt.AsSpan(16), 0x0000_8906_0000_0067);
        BinaryPrimitives.WriteUInt64LittleEndian(gdt.AsSpan(24), baseHigh);
        m.Machine.Memory.Write(LongModeMachine.GdtBase + 0x18, gdt);
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.pop(rbx); // error code
            a.mov(rax, __qword_ptr[rsp]); // RIP of the faulting instruction
            a.hlt();
        });
        m.SetGate((int)GpVector, LongModeMachine.HandlerBase);
        return m;
    }

    private static VpState State(LongModeMachine m)
    {
        var s = m.InitialState();
        s.Gdtr = new DescriptorTableRegister(LongModeMachine.GdtBase, 0x37);
        return s;
    }

    private static VpState RunToHandler(LongModeMachine m)
    {
        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(LongModeMachine.HandlerBase + 6, s.Rip); // halted at the end of the #GP handler
        return s;
    }
}
