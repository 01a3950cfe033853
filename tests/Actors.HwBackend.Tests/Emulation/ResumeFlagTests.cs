using Actors.HwBackend.Abstractions;
using Iced.Intel;
using Xunit;
using static Actors.HwBackend.Tests.Emulation.InterruptFrameLog;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// RFLAGS.RF (Intel SDM vol. 3, 18.3.1.1): it suppresses instruction breakpoints for one instruction,
/// is cleared when an instruction completes unless IRET loaded it, and what an event pushes for it
/// depends on the kind of event.
/// </summary>
public sealed class ResumeFlagTests
{
    private const ulong L0Execute = 1; // DR7: L0 with R/W0 = 00, LEN0 = 00

    /// <summary>Builds an IRETQ frame to <paramref name="target"/> at CPL 0 with <paramref name="rflags"/> and executes it.</summary>
    private static void IretTo(Assembler a, Label target, int rflags)
    {
        a.mov(rax, rsp);
        a.push(LongModeMachine.DataSelector);
        a.push(rax);
        a.push(rflags);
        a.push(LongModeMachine.CodeSelector);
        a.lea(rax, __[target]);
        a.push(rax);
        a.iretq();
    }

    private static void ArmDr0(Assembler a, Label target)
    {
        a.lea(rax, __[target]);
        a.mov(dr0, rax);
        a.mov(eax, (uint)L0Execute);
        a.mov(dr7, rax);
    }

    [Fact]
    public void AFaultPushesRfSetAndASoftwareInterruptPushesItClear()
    {
        using var m = new LongModeMachine();
        Install(m, resumeAfter: int.MaxValue, vector: 6, beforeReturn: a => a.add(__qword_ptr[rsp + 16], 2)); // past UD2
        Install(m, resumeAfter: int.MaxValue, vector: 0x40, handler: LongModeMachine.HandlerBase + 0x200);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var ud = a.CreateLabel();
            var afterInt = a.CreateLabel();
            a.Label(ref ud);
            a.ud2();
            a.@int(0x40);
            a.Label(ref afterInt);
            a.hlt();
            return [ud, afterInt];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var log = Read(m);
        Assert.Equal([6, 0x40], log.Select(e => e.Vector));
        Assert.Equal(at[0], log[0].Rip);
        Assert.Equal(ResumeFlag, log[0].Rflags & ResumeFlag);
        Assert.Equal(at[1], log[1].Rip);
        Assert.Equal(0UL, log[1].Rflags & ResumeFlag);
        Assert.Equal(0UL, m.Vp.GetState().Rflags & ResumeFlag);
    }

    [Fact]
    public void IretLoadingRfLetsTheInstructionItReturnsToPassItsBreakpointOnce()
    {
        using var m = new LongModeMachine();
        Install(m, resumeAfter: 0);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var target = a.CreateLabel();
            ArmDr0(a, target);
            IretTo(a, target, (int)(ResumeFlag | 2));
            a.Label(ref target);
            a.inc(rcx); // skipped by the breakpoint once, thanks to RF; fires on the second pass
            a.cmp(rcx, 2);
            a.jb(target);
            a.hlt();
            return [target];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var db = Assert.Single(Read(m));
        Assert.Equal(at[0], db.Rip);
        Assert.Equal(1UL, db.Rcx); // the first pass had run
        Assert.Equal(2UL, m.Vp.GetState().Gprs[1]);
    }

    [Fact]
    public void PopfCannotSetRf()
    {
        using var m = new LongModeMachine();
        Install(m, resumeAfter: 0);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var target = a.CreateLabel();
            ArmDr0(a, target);
            a.pushfq();
            a.or(__qword_ptr[rsp], (int)ResumeFlag);
            a.popfq();
            a.Label(ref target);
            a.inc(rbx);
            a.hlt();
            return [target];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var db = Assert.Single(Read(m));
        Assert.Equal(at[0], db.Rip);
        Assert.Equal(0UL, db.Rflags & ResumeFlag);
    }

    [Fact]
    public void AnInstructionReturnedToWithRfSetClearsItWhenItCompletes()
    {
        using var m = new LongModeMachine();
        Install(m, resumeAfter: 1);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var target = a.CreateLabel();
            var next = a.CreateLabel();
            // RF and TF both loaded by IRETQ: the instruction after it runs, then the single-step trap shows RF.
            IretTo(a, target, (int)(ResumeFlag | TrapFlag | 2));
            a.Label(ref target);
            a.inc(rbx);
            a.Label(ref next);
            a.hlt();
            return [next];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var db = Assert.Single(Read(m));
        Assert.Equal(at[0], db.Rip);
        Assert.Equal(Dr6Fixed | Dr6SingleStep, db.Dr6);
        Assert.Equal(TrapFlag, db.Rflags & (TrapFlag | ResumeFlag));
    }

    [Fact]
    public void ARestartedFaultingInstructionDoesNotFireItsBreakpointAgain()
    {
        using var m = new LongModeMachine();
        Install(m, resumeAfter: 0); // #DB: set RF and go on
        // #DE: make the divisor 1 and return to the DIV, leaving the image's RF as the CPU pushed it.
        Install(m, resumeAfter: int.MaxValue, vector: 0, handler: LongModeMachine.HandlerBase + 0x200, beforeReturn: a => a.mov(ecx, 1));
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var div = a.CreateLabel();
            ArmDr0(a, div);
            a.xor(ecx, ecx);
            a.xor(edx, edx);
            a.mov(eax, 7);
            a.Label(ref div);
            a.div(rcx);
            a.hlt();
            return [div];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var log = Read(m);
        Assert.Equal([1, 0], log.Select(e => e.Vector)); // one #DB, one #DE, and no second #DB
        Assert.All(log, e => Assert.Equal(at[0], e.Rip));
        Assert.Equal(0UL, log[0].Rflags & ResumeFlag);
        Assert.Equal(ResumeFlag, log[1].Rflags & ResumeFlag);
        Assert.Equal(7UL, m.Vp.GetState().Gprs[0]);
    }

    [Fact]
    public void AnInterruptRightAfterIretLoadedRfPushesItSetSoTheBreakpointStaysSuppressed()
    {
        using var m = new LongModeMachine();
        Install(m, resumeAfter: 0);
        Install(m, resumeAfter: int.MaxValue, vector: 0x20, handler: LongModeMachine.HandlerBase + 0x200);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var target = a.CreateLabel();
            ArmDr0(a, target);
            IretTo(a, target, (int)(ResumeFlag | InterruptFlag | 2)); // IF opens here: the interrupt comes first
            a.Label(ref target);
            a.inc(rbx);
            a.hlt();
            return [target];
        });
        m.Vp.SetState(m.InitialState());
        m.Vp.InjectExternalInterrupt(0x20);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var e = Assert.Single(Read(m));
        Assert.Equal(0x20, e.Vector);
        Assert.Equal(at[0], e.Rip);
        Assert.Equal(ResumeFlag, e.Rflags & ResumeFlag);
        Assert.Equal(1UL, m.Vp.GetState().Gprs[3]);
    }

    [Fact]
    public void AnInterruptBetweenIterationsOfARepStringInstructionPushesRfSetAndOneAfterTheLastPushesItClear()
    {
        using var m = new LongModeMachine();
        Install(m, resumeAfter: int.MaxValue, vector: 0x20);
        const int Elements = 0x2_0000; // more than one time slice of the string handler
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var rep = a.CreateLabel();
            var halt = a.CreateLabel();
            a.mov(edi, 0x20_0000);
            a.mov(ecx, Elements);
            a.mov(eax, 0x5555_5555);
            a.sti(); // the pending interrupt waits for the end of the instruction after STI
            a.Label(ref rep);
            a.rep.stosd();
            a.Label(ref halt);
            a.hlt();
            a.hlt();
            return [rep, halt];
        });
        m.Vp.SetState(m.InitialState());
        m.Vp.InjectExternalInterrupt(0x20);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        m.Vp.InjectExternalInterrupt(0x20); // this one arrives at the HLT, after the last iteration
        Assert.Equal(VpExitReason.Halt, m.Run().Reason);

        var log = Read(m);
        Assert.Equal(2, log.Count);
        Assert.Equal(at[0], log[0].Rip);
        Assert.InRange(log[0].Rcx, 1UL, Elements - 1UL);
        Assert.Equal(ResumeFlag, log[0].Rflags & ResumeFlag);
        Assert.Equal(at[1] + 1, log[1].Rip);
        Assert.Equal(0UL, log[1].Rflags & ResumeFlag);
        Assert.Equal(0UL, m.Vp.GetState().Gprs[1]);
        Assert.Equal(0x5555_5555U, m.Machine.Memory.ReadValue<uint>(0x20_0000 + (4 * (Elements - 1))));
    }
}
