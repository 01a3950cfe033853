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

    [Fact]
    public void ARepStringInstructionIsSteppedOneIterationAtATimeWithRipStillAtItUntilTheLast()
    {
        using var m = new LongModeMachine();
        InterruptFrameLog.Install(m, resumeAfter: int.MaxValue);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var rep = a.CreateLabel();
            var after = a.CreateLabel();
            a.mov(edi, 0x6_0000);
            a.mov(ecx, 3);
            a.pushfq();
            a.or(__qword_ptr[rsp], (int)TrapFlag);
            a.popfq();
            a.nop(); // trap 1, at the REP
            a.Label(ref rep);
            a.rep.stosb(); // traps 2 and 3 at the REP itself, trap 4 after the last iteration
            a.Label(ref after);
            a.pushfq();
            a.and(__qword_ptr[rsp], unchecked((int)~TrapFlag));
            a.popfq(); // trap 5 follows the PUSHFQ, trap 6 the AND; POPFQ clears TF, and its own trap is the 7th
            a.hlt();
            return [rep, after];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var log = InterruptFrameLog.Read(m);
        Assert.Equal(7, log.Count);
        Assert.Equal([at[0], at[0], at[0], at[1]], log.Take(4).Select(e => e.Rip));
        Assert.Equal([3UL, 2UL, 1UL, 0UL], log.Take(4).Select(e => e.Rcx));
        // Before the last iteration the pushed RF is 1 (SDM 18.3.1.1); after the last it is 0.
        Assert.Equal([0UL, InterruptFrameLog.ResumeFlag, InterruptFrameLog.ResumeFlag, 0UL], log.Take(4).Select(e => e.Rflags & InterruptFrameLog.ResumeFlag));
    }
}
