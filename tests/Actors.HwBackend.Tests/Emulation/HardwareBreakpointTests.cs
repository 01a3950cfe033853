using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Snapshots;
using Iced.Intel;
using Xunit;
using static Actors.HwBackend.Tests.Emulation.InterruptFrameLog;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>DR0-DR3 with DR7 (Intel SDM vol. 3, 18.2-18.3): instruction, data and I/O breakpoints, and the rules of MOV DR.</summary>
public sealed class HardwareBreakpointTests
{
    private const ulong Data = 0x6_0000;

    // DR7: Ln = bit 2n, Gn = bit 2n+1, R/Wn at 16 + 4n, LENn at 18 + 4n (LEN 00 = 1 byte, 01 = 2, 11 = 4, 10 = 8).
    private static ulong Local(int n) => 1UL << (2 * n);

    private static ulong Global(int n) => 2UL << (2 * n);

    private static ulong Condition(int n, int rw, int len) => ((ulong)rw << (16 + (4 * n))) | ((ulong)len << (18 + (4 * n)));

    private const int Execute = 0, Write = 1, Io = 2, ReadWrite = 3;
    private const int Len1 = 0, Len2 = 1, Len8 = 2, Len4 = 3;

    /// <summary>Code that loads DRn with <paramref name="address"/> and DR7 with <paramref name="control"/>.</summary>
    private static void Arm(Assembler a, AssemblerRegisterDR dr, ulong address, ulong control)
    {
        a.mov(rax, address);
        a.mov(dr, rax);
        a.mov(rax, control);
        a.mov(dr7, rax);
    }

    private static void Arm(Assembler a, AssemblerRegisterDR dr, Label address, ulong control)
    {
        a.lea(rax, __[address]);
        a.mov(dr, rax);
        a.mov(rax, control);
        a.mov(dr7, rax);
    }

    [Fact]
    public void AnInstructionBreakpointFaultsBeforeItsInstructionWithRipAtItAndRfClearInTheImage()
    {
        using var m = new LongModeMachine();
        Install(m, resumeAfter: 0); // the handler sets RF in the image and returns
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var target = a.CreateLabel();
            Arm(a, dr0, target, Local(0));
            a.inc(rcx);
            a.inc(rcx);
            a.Label(ref target);
            a.inc(rbx);
            a.hlt();
            return [target];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var log = Read(m);
        var db = Assert.Single(log);
        Assert.Equal(at[0], db.Rip);
        Assert.Equal(Dr6Fixed | 1, db.Dr6); // B0
        Assert.Equal(2UL, db.Rcx); // the instructions before it ran, it had not
        // SDM 18.3.1.1: an instruction-breakpoint #DB pushes RF as it is (0); the handler sets it to go on.
        Assert.Equal(0UL, db.Rflags & ResumeFlag);
        VpState s = m.Vp.GetState();
        Assert.Equal(1UL, s.Gprs[3]); // it ran once, after the handler
        Assert.Equal(0UL, s.Rflags & ResumeFlag); // and RF went when it completed
    }

    [Fact]
    public void WithoutRfInTheImageTheSameBreakpointFiresAgainOnReturn()
    {
        using var m = new LongModeMachine();
        Install(m, resumeAfter: 3);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var target = a.CreateLabel();
            Arm(a, dr0, target, Local(0));
            a.Label(ref target);
            a.inc(rbx);
            a.hlt();
            return [target];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var log = Read(m);
        Assert.Equal(3, log.Count);
        Assert.All(log, db => Assert.Equal(at[0], db.Rip));
        Assert.Equal(1UL, m.Vp.GetState().Gprs[3]);
    }

    [Fact]
    public void ABreakpointFiresMidBlockEachTimeItsInstructionRunsAndGnEnablesItLikeLn()
    {
        using var m = new LongModeMachine();
        Install(m);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var loop = a.CreateLabel();
            var target = a.CreateLabel();
            Arm(a, dr1, target, Global(1));
            a.mov(ecx, 3);
            a.Label(ref loop);
            a.inc(rdx);
            a.inc(rdx);
            a.Label(ref target);
            a.inc(rbx);
            a.dec(ecx);
            a.jnz(loop);
            a.hlt();
            return [target];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var log = Read(m);
        Assert.Equal(3, log.Count);
        Assert.All(log, db => Assert.Equal(at[0], db.Rip));
        Assert.All(log, db => Assert.Equal(Dr6Fixed | 2, db.Dr6)); // B1
        Assert.Equal([3UL, 2UL, 1UL], log.Select(db => db.Rcx));
        Assert.Equal(3UL, m.Vp.GetState().Gprs[3]);
    }

    [Fact]
    public void ABreakpointDr7DoesNotEnableNeverFires()
    {
        using var m = new LongModeMachine();
        Install(m);
        m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var target = a.CreateLabel();
            // LE, GE and the condition fields set, but no Ln or Gn.
            Arm(a, dr0, target, 0x300 | Condition(0, Execute, Len1));
            a.Label(ref target);
            a.inc(rbx);
            a.hlt();
            return [target];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Empty(Read(m));
        Assert.Equal(1UL, m.Vp.GetState().Gprs[3]);
    }

    [Fact]
    public void BreakpointsSetThroughTheProcessorStateFire()
    {
        using var m = new LongModeMachine();
        Install(m);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var target = a.CreateLabel();
            a.inc(rcx);
            a.Label(ref target);
            a.inc(rbx);
            a.hlt();
            return [target];
        });
        VpState s = m.InitialState();
        s.DebugRegisters = [0, 0, 0, at[0], Dr6Fixed, 0x400 | Local(3)];
        m.Vp.SetState(s);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var db = Assert.Single(Read(m));
        Assert.Equal(at[0], db.Rip);
        Assert.Equal(Dr6Fixed | 8, db.Dr6); // B3
    }

    [Fact]
    public void AWriteBreakpointTrapsAfterTheWritingInstructionButNotOnReadsOrBytesOutsideItsRange()
    {
        using var m = new LongModeMachine();
        Install(m);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var afterWrite = a.CreateLabel();
            // DR2 = Data + 2 with LEN 4: the range is aligned down to Data..Data+3.
            Arm(a, dr2, Data + 2, Local(2) | Condition(2, Write, Len4));
            a.mov(rsi, Data);
            a.mov(eax, __dword_ptr[rsi]); // a read: no trap
            a.mov(__byte_ptr[rsi + 4], 1); // outside the range: no trap
            a.mov(__byte_ptr[rsi - 1], 1); // outside the range: no trap
            a.mov(__byte_ptr[rsi + 3], 1); // trap, after it
            a.Label(ref afterWrite);
            a.hlt();
            return [afterWrite];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var db = Assert.Single(Read(m));
        Assert.Equal(at[0], db.Rip);
        Assert.Equal(Dr6Fixed | 4, db.Dr6); // B2
        Assert.Equal(0UL, db.Rflags & ResumeFlag); // a trap pushes RF as it is
        Assert.Equal(1, m.Machine.Memory.ReadValue<byte>(Data + 3)); // the write happened
    }

    [Fact]
    public void AReadWriteBreakpointTrapsOnReadsAndWritesAndLenAlignsItsAddressDown()
    {
        using var m = new LongModeMachine();
        Install(m);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var afterRead = a.CreateLabel();
            var afterWrite = a.CreateLabel();
            var afterAdd = a.CreateLabel();
            // DR3 = Data + 5 with LEN 8 covers Data..Data+7.
            Arm(a, dr3, Data + 5, Local(3) | Condition(3, ReadWrite, Len8));
            a.mov(rsi, Data);
            a.mov(al, __byte_ptr[rsi]);
            a.Label(ref afterRead);
            a.mov(al, __byte_ptr[rsi + 8]); // outside: no trap
            a.mov(__word_ptr[rsi + 7], 0x1234); // straddles the end: trap
            a.Label(ref afterWrite);
            a.add(__dword_ptr[rsi + 2], 1); // read-modify-write: one trap
            a.Label(ref afterAdd);
            a.hlt();
            return [afterRead, afterWrite, afterAdd];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var log = Read(m);
        Assert.Equal(at, log.Select(db => db.Rip));
        Assert.All(log, db => Assert.Equal(Dr6Fixed | 8, db.Dr6)); // B3
    }

    [Fact]
    public void APushIntoAWatchedStackSlotTraps()
    {
        using var m = new LongModeMachine();
        Install(m);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var afterPush = a.CreateLabel();
            Arm(a, dr0, LongModeMachine.StackTop - 8, Local(0) | Condition(0, Write, Len8));
            a.push(rbx);
            a.Label(ref afterPush);
            a.hlt();
            return [afterPush];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var db = Assert.Single(Read(m));
        Assert.Equal(at[0], db.Rip);
        Assert.Equal(Dr6Fixed | 1, db.Dr6);
    }

    [Fact]
    public void ARepStringInstructionTrapsAfterTheIterationThatHitWithRipStillAtItAndRfSet()
    {
        using var m = new LongModeMachine();
        Install(m, resumeAfter: int.MaxValue);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var rep = a.CreateLabel();
            Arm(a, dr0, Data + 5, Local(0) | Condition(0, Write, Len1));
            a.mov(rdi, Data);
            a.mov(ecx, 16);
            a.mov(al, 0xAA);
            a.Label(ref rep);
            a.rep.stosb();
            a.hlt();
            return [rep];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var db = Assert.Single(Read(m));
        Assert.Equal(at[0], db.Rip);
        Assert.Equal(10UL, db.Rcx); // six iterations done: the one that wrote Data + 5 was the last
        // SDM 18.3.1.1: a trap after any iteration but the last pushes RF = 1.
        Assert.Equal(ResumeFlag, db.Rflags & ResumeFlag);
        Assert.Equal(0UL, m.Vp.GetState().Gprs[1]);
        var buffer = new byte[16];
        m.Machine.Memory.Read(Data, buffer);
        Assert.All(buffer, b => Assert.Equal(0xAA, b));
    }

    [Fact]
    public void AnIoBreakpointTrapsAfterAnOutWhenCr4DeIsSet()
    {
        using var m = new LongModeMachine();
        Install(m);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var afterOut = a.CreateLabel();
            a.mov(rax, cr4);
            a.or(rax, 8); // DE
            a.mov(cr4, rax);
            Arm(a, dr1, 0x80, Local(1) | Condition(1, Io, Len1));
            a.@out(0x80, al);
            a.Label(ref afterOut);
            a.hlt();
            return [afterOut];
        });
        m.Vp.SetState(m.InitialState());

        VpExit exit = m.Run();
        Assert.Equal(VpExitReason.PortOut, exit.Reason);
        Assert.Equal(0x80, exit.Port);
        // The OUT completed; its trap is owed until the next instruction boundary.
        Assert.Equal(2UL, m.Vp.GetState().PendingDebugExceptions);
        Assert.Empty(Read(m));

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var db = Assert.Single(Read(m));
        Assert.Equal(at[0], db.Rip);
        Assert.Equal(Dr6Fixed | 2, db.Dr6);
        Assert.Equal(0UL, m.Vp.GetState().PendingDebugExceptions);
    }

    [Fact]
    public void AnIoBreakpointTrapsAfterAnInOnceItsValueArrivesAndLenCoversNeighbouringPorts()
    {
        using var m = new LongModeMachine();
        Install(m);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var afterIn = a.CreateLabel();
            a.mov(rax, cr4);
            a.or(rax, 8);
            a.mov(cr4, rax);
            Arm(a, dr0, 0x80, Local(0) | Condition(0, Io, Len2)); // ports 0x80 and 0x81
            a.@in(al, 0x81);
            a.Label(ref afterIn);
            a.hlt();
            return [afterIn];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.PortIn, m.Run().Reason);
        m.Vp.CompletePortIn(0x5A);
        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var db = Assert.Single(Read(m));
        Assert.Equal(at[0], db.Rip);
        Assert.Equal(Dr6Fixed | 1, db.Dr6);
        Assert.Equal(0x5AUL, m.Vp.GetState().Gprs[0] & 0xFF);
    }

    [Fact]
    public void WithoutCr4DeAnIoConditionNeverFires()
    {
        using var m = new LongModeMachine();
        Install(m);
        m.Load(LongModeMachine.CodeBase, a =>
        {
            Arm(a, dr1, 0x80, Local(1) | Condition(1, Io, Len1));
            a.@out(0x80, al);
            a.hlt();
        });
        VpState s = m.InitialState();
        s.Cr4 &= ~8UL;
        m.Vp.SetState(s);

        Assert.Equal(VpExitReason.PortOut, m.Run().Reason);
        Assert.Equal(0UL, m.Vp.GetState().PendingDebugExceptions);
        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Empty(Read(m));
    }

    [Fact]
    public void AnOwedTrapSurvivesASnapshotAndIsDeliveredAfterRestore()
    {
        using var m = new LongModeMachine();
        Install(m);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var afterOut = a.CreateLabel();
            a.pushfq();
            a.or(__qword_ptr[rsp], (int)TrapFlag);
            a.popfq();
            a.@out(0x80, al); // single-stepped: its trap is owed across the exit
            a.Label(ref afterOut);
            a.hlt();
            return [afterOut];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.PortOut, m.Run().Reason);
        VpState saved = m.Vp.GetState();
        Assert.Equal(Dr6SingleStep, saved.PendingDebugExceptions);

        var writer = new SnapshotSectionWriter(4096);
        saved.Write(writer);
        var reader = new SnapshotSectionReader("vcpu/0", VpState.SnapshotVersion, writer.Written);
        VpState restored = VpState.Read(ref reader, VpState.SnapshotVersion);
        Assert.Equal(0, reader.Remaining);
        m.Vp.SetState(new VpState());
        Assert.Equal(0UL, m.Vp.GetState().PendingDebugExceptions);
        m.Vp.SetState(restored);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var db = Assert.Single(Read(m));
        Assert.Equal(at[0], db.Rip);
        Assert.Equal(Dr6Fixed | Dr6SingleStep, db.Dr6);
    }

    [Fact]
    public void AVersion3VcpuSectionReadsWithNoDebugTrapOwed()
    {
        var state = new VpState { PendingDebugExceptions = Dr6SingleStep, NmiBlocked = true };
        var writer = new SnapshotSectionWriter(4096);
        state.Write(writer);
        // Version 3 ended with the NMI flags: the same bytes without the 8 of PendingDebugExceptions
        // (nor the 8 of IA32_SPEC_CTRL, from version 5).
        var reader = new SnapshotSectionReader("vcpu/0", 3, writer.Written[..^16]);
        VpState old = VpState.Read(ref reader, 3);
        Assert.Equal(0, reader.Remaining);
        Assert.True(old.NmiBlocked);
        Assert.Equal(0UL, old.PendingDebugExceptions);
    }

    [Fact]
    public void Dr4AndDr5AreDr6AndDr7WhileCr4DeIsClear()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(eax, 0x2000 | 0x1); // GD is not used here: B0 into DR6 through DR4
            a.mov(dr4, rax);
            a.mov(rbx, dr6);
            a.mov(eax, 0x300);
            a.mov(dr5, rax);
            a.mov(rcx, dr7);
            a.mov(rdx, dr5);
            a.hlt();
        });
        VpState s = m.InitialState();
        s.Cr4 &= ~8UL;
        m.Vp.SetState(s);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        VpState end = m.Vp.GetState();
        Assert.Equal(Dr6Fixed | 0x2001, end.Gprs[3]);
        Assert.Equal(0x700UL, end.Gprs[1]);
        Assert.Equal(0x700UL, end.Gprs[2]);
    }

    [Fact]
    public void Dr4AndDr5AreUndefinedOpcodesWhileCr4DeIsSet()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.inc(r15);
            a.add(__qword_ptr[rsp], 3); // skip the 3-byte MOV DR
            a.iretq();
        });
        m.SetGate(6, LongModeMachine.HandlerBase);
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(rax, cr4);
            a.or(rax, 8);
            a.mov(cr4, rax);
            a.mov(rbx, dr4);
            a.mov(dr5, rax);
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        VpState s = m.Vp.GetState();
        Assert.Equal(2UL, s.Gprs[15]);
        Assert.Equal(0UL, s.Gprs[3]);
        Assert.Equal(0x400UL, s.DebugRegisters[5]);
    }

    [Fact]
    public void Dr6AndDr7KeepTheirFixedBitsWhateverIsWritten()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.xor(eax, eax);
            a.mov(dr6, rax);
            a.mov(dr7, rax);
            a.mov(r8, dr6);
            a.mov(r9, dr7);
            a.mov(eax, uint.MaxValue);
            a.mov(dr6, rax);
            a.mov(r10, dr6);
            a.mov(eax, 0xDFFF); // all but GD below bit 16, so the next MOV DR does not fault
            a.mov(dr7, rax);
            a.mov(r11, dr7);
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        VpState s = m.Vp.GetState();
        Assert.Equal(0xFFFF_0FF0UL, s.Gprs[8]);
        Assert.Equal(0x400UL, s.Gprs[9]);
        Assert.Equal(0xFFFF_EFFFUL, s.Gprs[10]); // bit 12 reads 0, the rest of 31:0 1
        Assert.Equal(0x07FFUL, s.Gprs[11]); // bits 11, 12, 14 and 15 read 0, bit 10 reads 1
    }

    [Fact]
    public void WritingBitsAbove31OfDr6OrDr7IsAGeneralProtectionFault()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.inc(r15);
            a.mov(r14, __qword_ptr[rsp]); // error code
            a.mov(r13, __qword_ptr[rsp + 8]); // RIP
            a.add(__qword_ptr[rsp + 8], 3);
            a.add(rsp, 8);
            a.iretq();
        });
        m.SetGate(13, LongModeMachine.HandlerBase);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var movDr7 = a.CreateLabel();
            a.mov(rax, 1UL << 32);
            a.mov(dr0, rax); // an address: any 64-bit value
            a.Label(ref movDr7);
            a.mov(dr7, rax);
            a.mov(dr6, rax);
            a.hlt();
            return [movDr7];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        VpState s = m.Vp.GetState();
        Assert.Equal(2UL, s.Gprs[15]);
        Assert.Equal(0UL, s.Gprs[14]);
        Assert.Equal(at[0] + 3, s.Gprs[13]); // the last fault was the MOV to DR6
        Assert.Equal(1UL << 32, s.DebugRegisters[0]);
        Assert.Equal(0xFFFF_0FF0UL, s.DebugRegisters[4]);
        Assert.Equal(0x400UL, s.DebugRegisters[5]);
    }

    [Fact]
    public void MovDrOutsideRing0IsAGeneralProtectionFault()
    {
        using var m = new LongModeMachine();
        UserMode.Prepare(m);
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.mov(r14, __qword_ptr[rsp]); // error code
            a.mov(r13, __qword_ptr[rsp + 8]); // RIP
            a.mov(r12, __qword_ptr[rsp + 16]); // CS
            a.hlt();
        });
        m.SetGate(13, LongModeMachine.HandlerBase);
        m.Load(32, LongModeMachine.CodeBase, a =>
        {
            a.mov(eax, 1);
            a.mov(dr7, eax);
        });
        m.Vp.SetState(UserMode.Compat32State(m, LongModeMachine.CodeBase, 0x2));

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        VpState s = m.Vp.GetState();
        Assert.Equal(0UL, s.Gprs[14]);
        Assert.Equal(LongModeMachine.CodeBase + 5, s.Gprs[13]);
        Assert.Equal((ulong)UserMode.Code32Selector, s.Gprs[12]);
        Assert.Equal(0x400UL, s.DebugRegisters[5]);
    }

    [Fact]
    public void GeneralDetectMakesMovDrAFaultWithBdAndEntryToTheHandlerClearsGd()
    {
        using var m = new LongModeMachine();
        Install(m, resumeAfter: int.MaxValue);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            var read = a.CreateLabel();
            a.mov(rax, 0x1234UL);
            a.mov(dr0, rax);
            a.mov(eax, 0x2000); // GD
            a.mov(dr7, rax);
            a.Label(ref read);
            a.mov(rbx, dr0); // #DB before it runs; it runs after the handler returns
            a.hlt();
            return [read];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var db = Assert.Single(Read(m));
        Assert.Equal(at[0], db.Rip);
        Assert.Equal(Dr6Fixed | Dr6GeneralDetect, db.Dr6);
        Assert.Equal(0x400UL, db.Dr7); // GD cleared on entry, so the handler's own MOV DR worked
        Assert.Equal(ResumeFlag, db.Rflags & ResumeFlag); // a fault other than an instruction breakpoint
        Assert.Equal(0x1234UL, m.Vp.GetState().Gprs[3]);
    }

    [Fact]
    public void CpuidAdvertisesDebuggingExtensions()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(eax, 1);
            a.cpuid();
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(1UL << 2, m.Vp.GetState().Gprs[2] & (1UL << 2)); // EDX.DE
    }
}
