using Actors.HwBackend.Abstractions;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>RFLAGS.TF: a #DB trap with DR6.BS after each instruction that starts with TF set.</summary>
public sealed class SingleStepTests
{
    private const ulong TrapFlag = 0x100;

    [Fact]
    public void EachInstructionAfterPopfSetsTfTrapsAtTheNextOneUntilTheHandlerClearsTf()
    {
        using var m = new LongModeMachine();
        // #DB handler: count traps in R15, keep the first return address in R14, and after the
        // third clear TF in the RFLAGS image that IRETQ restores.
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            var done = a.CreateLabel();
            a.inc(r15);
            a.cmp(r15, 1);
            a.jne(done);
            a.mov(r14, __qword_ptr[rsp]);
            a.Label(ref done);
            a.cmp(r15, 3);
            var back = a.CreateLabel();
            a.jne(back);
            a.and(__qword_ptr[rsp + 16], unchecked((int)~TrapFlag));
            a.Label(ref back);
            a.iretq();
        });
        m.SetGate(1, LongModeMachine.HandlerBase);
        int prologue = m.Load(LongModeMachine.CodeBase, a =>
        {
            a.pushfq();
            a.or(__qword_ptr[rsp], (int)TrapFlag);
            a.popfq(); // TF is set from here: POPF itself does not trap
        });
        m.Load(LongModeMachine.CodeBase + (ulong)prologue, a =>
        {
            a.nop(); // trap 1, at the next nop
            a.nop(); // trap 2
            a.nop(); // trap 3: the handler clears TF
            a.nop(); // no trap
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        VpState s = m.Vp.GetState();
        Assert.Equal(3UL, s.Gprs[15]);
        Assert.Equal(LongModeMachine.CodeBase + (ulong)prologue + 1, s.Gprs[14]);
        Assert.Equal(1UL << 14, s.DebugRegisters[4] & (1UL << 14)); // DR6.BS
        Assert.Equal(0UL, s.Rflags & TrapFlag);
    }

    [Fact]
    public void ASoftwareInterruptUnderTfIsNotFollowedByATrap()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.inc(r15);
            a.iretq();
        });
        m.SetGate(1, LongModeMachine.HandlerBase);
        m.Load(LongModeMachine.HandlerBase + 0x100, a =>
        {
            a.inc(r13);
            a.and(__qword_ptr[rsp + 16], unchecked((int)~TrapFlag)); // return with TF clear
            a.iretq();
        });
        m.SetGate(0x40, LongModeMachine.HandlerBase + 0x100);
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.pushfq();
            a.or(__qword_ptr[rsp], (int)TrapFlag);
            a.popfq();
            a.@int(0x40); // TF set at its start, but INT n is never followed by a single-step trap
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        VpState s = m.Vp.GetState();
        Assert.Equal(1UL, s.Gprs[13]);
        Assert.Equal(0UL, s.Gprs[15]);
    }
}
