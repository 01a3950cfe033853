using Actors.HwBackend.Abstractions;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>Faults reach the guest's IDT with the right vector, return address and error code; without an IDT they end in a triple fault.</summary>
public sealed class CpuExceptionTests
{
    [Theory]
    [InlineData(new byte[] { 0x0F, 0x0B })] // ud2
    [InlineData(new byte[] { 0x06 })] // push es: invalid in 64-bit mode
    [InlineData(new byte[] { 0x0F, 0x01, 0xC8 })] // monitor: not advertised, not implemented
    [InlineData(new byte[] { 0xF0, 0x90 })] // lock nop: LOCK on a non-lockable instruction
    public void Undefined_opcode_is_delivered_as_UD_through_the_guest_IDT(byte[] code)
    {
        using var m = new LongModeMachine();
        m.Machine.Memory.Write(LongModeMachine.CodeBase, code);
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.mov(rax, __qword_ptr[rsp]); // the saved RIP: the faulting instruction itself
            a.mov(rbx, 0x600D);
            a.hlt();
        });
        m.SetGate(6, LongModeMachine.HandlerBase);
        m.Vp.SetState(m.InitialState());

        var exit = m.Run();

        var s = m.Vp.GetState();
        Assert.Equal(VpExitReason.Halt, exit.Reason);
        Assert.Equal(0x600DUL, s.Gprs[3]);
        Assert.Equal(LongModeMachine.CodeBase, s.Gprs[0]);
    }

    [Fact]
    public void Page_fault_reports_the_address_in_CR2_and_an_error_code()
    {
        using var m = new LongModeMachine();
        ulong nonCanonicalFree = 0x0000_7000_0000_0000; // not covered by the identity map: PML4 entry absent
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(rcx, nonCanonicalFree);
            a.mov(__qword_ptr[rcx], rax);
        });
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.pop(rbx); // error code
            a.mov(rdx, cr2);
            a.hlt();
        });
        m.SetGate(14, LongModeMachine.HandlerBase);
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(nonCanonicalFree, s.Gprs[2]);
        Assert.Equal(2UL, s.Gprs[3]); // not present, write, supervisor
    }

    [Fact]
    public void Division_by_zero_raises_DE_with_RIP_at_the_division()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.xor(ecx, ecx);
            a.div(rcx);
        });
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.mov(rax, __qword_ptr[rsp]);
            a.hlt();
        });
        m.SetGate(0, LongModeMachine.HandlerBase);
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(LongModeMachine.CodeBase + 2, m.Vp.GetState().Gprs[0]);
    }

    [Fact]
    public void A_fault_while_delivering_a_page_fault_becomes_a_double_fault()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(rcx, 0x0000_7000_0000_0000UL);
            a.mov(rax, __qword_ptr[rcx]); // #PF, whose gate is not present: #NP during #PF delivery = #DF
        });
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.pop(rbx); // #DF pushes an error code of 0
            a.mov(edx, 8);
            a.hlt();
        });
        m.SetGate(8, LongModeMachine.HandlerBase);
        m.Machine.Memory.Write(LongModeMachine.IdtBase + 14 * 16, new byte[16]);
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(8UL, s.Gprs[2]);
        Assert.Equal(0UL, s.Gprs[3]);
    }

    [Fact]
    public void An_IDT_in_MMIO_space_reads_as_all_ones_and_ends_in_a_triple_fault_not_a_host_error()
    {
        using var m = new LongModeMachine();
        m.Machine.Memory.Write(LongModeMachine.CodeBase, [0x0F, 0x0B]);
        var state = m.InitialState();
        state.Idtr = new DescriptorTableRegister(0xFEE0_0000, 0xFFF);
        m.Vp.SetState(state);

        Assert.Equal(VpExitReason.Shutdown, m.Run().Reason);
    }

    [Fact]
    public void IDIV_of_the_most_negative_128_bit_dividend_by_minus_one_raises_DE()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(rdx, unchecked((long)0x8000_0000_0000_0000UL));
            a.xor(eax, eax);
            a.mov(rcx, -1L);
            a.idiv(rcx);
        });
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.mov(ebx, 0xDE);
            a.hlt();
        });
        m.SetGate(0, LongModeMachine.HandlerBase);
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(0xDEUL, m.Vp.GetState().Gprs[3]);
    }

    [Fact]
    public void A_fault_with_no_usable_IDT_is_a_triple_fault_shutdown()
    {
        using var m = new LongModeMachine();
        m.Machine.Memory.Write(LongModeMachine.CodeBase, [0x0F, 0x0B]);
        var state = m.InitialState();
        state.Idtr = new DescriptorTableRegister(0, 0);
        m.Vp.SetState(state);

        var exit = m.Run();

        Assert.Equal(VpExitReason.Shutdown, exit.Reason);
    }

    [Fact]
    public void Interrupt_handler_on_an_IST_stack_sees_the_IST_RSP()
    {
        using var m = new LongModeMachine();
        const ulong tss = 0x5000, istTop = 0x60000;
        m.Machine.Memory.WriteValue(tss + 0x24, istTop); // IST1
        m.Load(LongModeMachine.CodeBase, a => a.@int(0x40));
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.mov(rax, rsp);
            a.hlt();
        });
        m.SetGate(0x40, LongModeMachine.HandlerBase, ist: 1);
        var state = m.InitialState();
        state.Tr = new SegmentRegister(0x18, tss, 0x67, 11, true, 0, false, false, false, false, false, false);
        m.Vp.SetState(state);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(istTop - 40, m.Vp.GetState().Gprs[0]); // SS, RSP, RFLAGS, CS, RIP pushed
    }
}
