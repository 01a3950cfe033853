using Actors.HwBackend.Abstractions;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// The CPU keeps one TLB (and one set of block links) for CPL 3 and one for the kernel, and switches
/// between them on SYSCALL, SYSRET, interrupts and IRET instead of flushing. What the kernel may reach
/// and the user may not must still fault in user mode after the kernel has reached it: a data read,
/// and code the kernel ran through a link that user mode then comes to.
/// </summary>
public sealed class PrivilegeTlbTests
{
    private const ulong SupervisorPage = 0x40_0000, UserCode = 0x2_0000, Trampoline = 0x1_2000;
    private const ulong PresentUser = 0x5, PresentUserFetch = 0x15;

    [Fact]
    public void A_supervisor_page_the_kernel_read_faults_when_user_mode_reads_it()
    {
        using var m = Prepare(user => user.mov(rbx, __qword_ptr[SupervisorPage]));

        (ulong error, ulong cr2) = RunToPageFault(m);
        Assert.Equal((PresentUser, SupervisorPage), (error, cr2));
    }

    [Fact]
    public void Code_on_a_supervisor_page_the_kernel_reached_by_a_link_faults_when_user_mode_reaches_it()
    {
        using var m = Prepare(user => user.call(Trampoline));

        (ulong error, ulong cr2) = RunToPageFault(m);
        Assert.Equal((PresentUserFetch, SupervisorPage + 0x100), (error, cr2));
    }

    /// <summary>
    /// The kernel reads the supervisor page and calls, twice, a trampoline on a user page that jumps to
    /// code on the supervisor page (which returns), so the jump is linked; then it SYSRETs to <paramref name="user"/>.
    /// </summary>
    private static LongModeMachine Prepare(Action<Iced.Intel.Assembler> user)
    {
        var m = new LongModeMachine();
        UserMode.Prepare(m);
        // The directory entry for 4-6 MiB loses its user bit.
        ulong entry = LongModeMachine.TablesBase + (2 * 0x1000) + (2 * 8);
        m.Machine.Memory.WriteValue(entry, m.Machine.Memory.ReadValue<ulong>(entry) & ~4UL);

        m.Load(SupervisorPage + 0x100, a => a.ret());
        m.Load(Trampoline, a => a.jmp(SupervisorPage + 0x100));
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(rax, __qword_ptr[SupervisorPage]);
            a.call(Trampoline);
            a.call(Trampoline);
            a.mov(ecx, 0xC000_0081); // STAR: kernel CS 0x08, user segments from SysretBase
            a.mov(edx, (UserMode.SysretBase << 16) | LongModeMachine.CodeSelector);
            a.xor(eax, eax);
            a.wrmsr();
            a.mov(rcx, UserCode);
            a.mov(r11, 0x2);
            a.sysretq();
        });
        m.Load(UserCode, a =>
        {
            user(a);
            a.hlt(); // not reached: HLT at CPL 3 is a #GP, which has no handler here
        });
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.pop(rdx); // the error code
            a.mov(rsi, cr2);
            a.hlt();
        });
        m.SetGate(14, LongModeMachine.HandlerBase);
        VpState state = m.InitialState();
        state.Gdtr = new DescriptorTableRegister(LongModeMachine.GdtBase, UserMode.GdtLimit);
        m.Vp.SetState(state);
        return m;
    }

    private static (ulong Error, ulong Cr2) RunToPageFault(LongModeMachine m)
    {
        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        VpState state = m.Vp.GetState();
        Assert.Equal(LongModeMachine.HandlerBase + 5, state.Rip); // after POP, MOV from CR2 and HLT
        return (state.Gprs[2], state.Gprs[6]);
    }
}
