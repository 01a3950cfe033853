using Actors.HwBackend.Abstractions;
using Xunit;
using static Actors.HwBackend.Tests.Emulation.InterruptFrameLog;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// Single-stepping through SYSCALL and SYSRET from 32-bit code in compatibility mode (CS.L = 0, D = 1
/// at CPL 3 under long mode). SYSCALL from compatibility mode enters at CSTAR, as AMD64 defines it
/// (Intel processors raise #UD there instead; this CPU follows AMD); SYSRET with a 32-bit operand
/// returns to compatibility mode with CS = STAR[63:48] | 3, SS = (STAR[63:48] + 8) | 3, EIP = ECX and
/// RFLAGS = (R11 &amp; 0x3C7FD7) | 2. A single-step trap follows an instruction that starts with TF
/// set, so whether SFMASK clears TF decides which kernel instructions trap: never the one after
/// SYSCALL's own trap at the entry point.
/// </summary>
public sealed class CompatSyscallSingleStepTests
{
    private const ulong KernelEntry = 0x4_0000;
    private const ushort KernelCode = LongModeMachine.CodeSelector, KernelStack = LongModeMachine.DataSelector;
    private const ulong UserRflags = 0x3002; // IOPL 3, so the user code's OUT exits instead of faulting
    private const ulong SteppedUserRflags = UserRflags | TrapFlag;
    private const ulong Dr6Step = Dr6Fixed | Dr6SingleStep;
    private const ushort Port = 0x80;

    private sealed record Layout(ulong Syscall, ulong AfterSyscall, ulong Out, ulong AfterOut, ulong[] Kernel);

    private static Layout Prepare(LongModeMachine m, ulong sfmask)
    {
        UserMode.Prepare(m);
        Install(m, resumeAfter: int.MaxValue, ist: 1); // IST: the entry point runs on the user's stack
        m.Load(LongModeMachine.HandlerBase + 0x400, a => a.hlt());
        m.SetGate(6, LongModeMachine.HandlerBase + 0x400); // the user code ends with UD2
        ulong[] kernel = m.LoadLabelled(64, KernelEntry, a =>
        {
            var k0 = a.CreateLabel();
            var k1 = a.CreateLabel();
            var k2 = a.CreateLabel();
            a.Label(ref k0);
            a.mov(r12, rcx); // SYSCALL's return address
            a.Label(ref k1);
            a.mov(r13, r11); // and the RFLAGS it saved
            a.Label(ref k2);
            a.sysret(); // 0F 07 without REX.W: back to compatibility mode
            return [k0, k1, k2];
        });
        ulong[] user = m.LoadLabelled(32, LongModeMachine.CodeBase, a =>
        {
            var syscall = a.CreateLabel();
            var afterSyscall = a.CreateLabel();
            var @out = a.CreateLabel();
            var afterOut = a.CreateLabel();
            a.pushfd();
            a.or(__dword_ptr[esp], (int)TrapFlag);
            a.popfd(); // TF from here; POPF's own trap is after the next instruction
            a.nop();
            a.Label(ref syscall);
            a.syscall();
            a.Label(ref afterSyscall);
            a.nop();
            a.Label(ref @out);
            a.@out((byte)Port, al);
            a.Label(ref afterOut);
            a.ud2();
            return [syscall, afterSyscall, @out, afterOut];
        });

        VpState s = UserMode.Compat32State(m, LongModeMachine.CodeBase, UserRflags);
        s.Star = ((ulong)UserMode.SysretBase << 48) | ((ulong)KernelCode << 32);
        s.Cstar = KernelEntry;
        s.Lstar = 0xDEAD_0000; // never used: the caller is 32-bit
        s.Sfmask = sfmask;
        m.Vp.SetState(s);
        return new Layout(user[0], user[1], user[2], user[3], kernel);
    }

    private static void AssertTrap(InterruptFrame e, ulong rip, ushort cs, ushort ss, ulong rflags)
    {
        Assert.Equal(1, e.Vector);
        Assert.Equal(rip, e.Rip);
        Assert.Equal(cs, e.Cs);
        Assert.Equal(ss, e.Ss);
        Assert.Equal(rflags, e.Rflags);
        Assert.Equal(Dr6Step, e.Dr6);
    }

    /// <summary>After SYSRET, at the user's OUT exit: the compatibility-mode state SYSRET loads, and the trap the OUT owes.</summary>
    private static void AssertBackInCompatibilityMode(LongModeMachine m, Layout at)
    {
        VpExit exit = m.Run();
        Assert.Equal(VpExitReason.PortOut, exit.Reason);
        Assert.Equal(Port, exit.Port);
        VpState s = m.Vp.GetState();
        Assert.Equal(at.AfterOut, s.Rip);
        Assert.Equal(UserMode.Code32Selector, s.Cs.Selector);
        Assert.False(s.Cs.Long);
        Assert.True(s.Cs.DefaultBig);
        Assert.Equal(3, s.Cs.Dpl);
        Assert.Equal(UserMode.DataSelector, s.Ss.Selector);
        Assert.Equal(3, s.Ss.Dpl);
        Assert.Equal(SteppedUserRflags, s.Rflags);
        Assert.Equal(Dr6SingleStep, s.PendingDebugExceptions);
        Assert.Equal(at.AfterSyscall, s.Gprs[12]); // RCX = the next EIP, zero-extended
        Assert.Equal(SteppedUserRflags, s.Gprs[13]); // R11 = RFLAGS, TF included, RF clear

        Assert.Equal(VpExitReason.Halt, m.Run().Reason); // the OUT's trap, then UD2's #UD handler halts
    }

    [Fact]
    public void WhenSfmaskClearsTfOnlyTheEntryPointAndTheUserInstructionsTrap()
    {
        using var m = new LongModeMachine();
        const ulong sfmask = 0x4_7700; // TF, IF, DF, IOPL, NT, AC: what Linux masks
        Layout at = Prepare(m, sfmask);

        AssertBackInCompatibilityMode(m, at);

        var log = Read(m);
        Assert.Equal(4, log.Count);
        AssertTrap(log[0], at.Syscall, UserMode.Code32Selector, UserMode.DataSelector, SteppedUserRflags);
        // SYSCALL started with TF set: its trap comes at CSTAR, in 64-bit mode, with RFLAGS masked.
        AssertTrap(log[1], KernelEntry, KernelCode, KernelStack, (SteppedUserRflags & ~sfmask) | 2);
        // The kernel ran with TF clear, SYSRET too, so the first trap after it follows the first user instruction.
        AssertTrap(log[2], at.Out, UserMode.Code32Selector, UserMode.DataSelector, SteppedUserRflags);
        Assert.Equal(at.AfterSyscall, log[2].Rcx);
        AssertTrap(log[3], at.AfterOut, UserMode.Code32Selector, UserMode.DataSelector, SteppedUserRflags);
    }

    [Fact]
    public void WhenSfmaskKeepsTfEveryKernelInstructionAndSysretTrap()
    {
        using var m = new LongModeMachine();
        const ulong sfmask = 0x600; // IF and DF only
        Layout at = Prepare(m, sfmask);

        AssertBackInCompatibilityMode(m, at);

        var log = Read(m);
        Assert.Equal(7, log.Count);
        AssertTrap(log[0], at.Syscall, UserMode.Code32Selector, UserMode.DataSelector, SteppedUserRflags);
        AssertTrap(log[1], at.Kernel[0], KernelCode, KernelStack, SteppedUserRflags);
        AssertTrap(log[2], at.Kernel[1], KernelCode, KernelStack, SteppedUserRflags);
        AssertTrap(log[3], at.Kernel[2], KernelCode, KernelStack, SteppedUserRflags);
        // SYSRET started with TF set: its trap is at the return address, already in compatibility mode.
        AssertTrap(log[4], at.AfterSyscall, UserMode.Code32Selector, UserMode.DataSelector, SteppedUserRflags);
        AssertTrap(log[5], at.Out, UserMode.Code32Selector, UserMode.DataSelector, SteppedUserRflags);
        AssertTrap(log[6], at.AfterOut, UserMode.Code32Selector, UserMode.DataSelector, SteppedUserRflags);
    }
}
