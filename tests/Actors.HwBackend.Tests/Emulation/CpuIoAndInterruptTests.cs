using Actors.HwBackend.Abstractions;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>Port I/O exits, stop requests, and external interrupts through the IDT.</summary>
public sealed class CpuIoAndInterruptTests
{
    [Fact]
    public void IN_exits_and_takes_the_completed_value()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(eax, 0x1111_1111);
            a.@in(al, 0x60);
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        var exit = m.Run();
        Assert.Equal(VpExitReason.PortIn, exit.Reason);
        Assert.Equal(0x60, exit.Port);
        Assert.Equal(1, exit.Size);
        m.Vp.CompletePortIn(0xAB);
        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(0x1111_11ABUL, m.Vp.GetState().Gprs[0]);
    }

    [Fact]
    public void REP_OUTSB_exits_once_per_byte_in_order()
    {
        using var m = new LongModeMachine();
        m.Machine.Memory.Write(0x40000, "Hi!"u8);
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(esi, 0x40000);
            a.mov(ecx, 3);
            a.mov(edx, 0x3F8);
            a.rep.outsb();
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        var seen = new List<byte>();
        VpExit exit;
        while ((exit = m.Run()).Reason == VpExitReason.PortOut)
        {
            Assert.Equal(0x3F8, exit.Port);
            seen.Add((byte)exit.Data);
        }
        Assert.Equal(VpExitReason.Halt, exit.Reason);
        Assert.Equal("Hi!"u8.ToArray(), seen.ToArray());
        Assert.Equal(0UL, m.Vp.GetState().Gprs[1]);
    }

    [Fact]
    public async Task A_stop_request_from_another_thread_ends_an_endless_loop()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            var top = a.CreateLabel();
            a.Label(ref top);
            a.inc(rax);
            a.jmp(top);
        });
        m.Vp.SetState(m.InitialState());

        var stopper = Task.Run(async () =>
        {
            while (m.Vp.InstructionsRetired < 100_000) await Task.Yield();
            m.Vp.RequestStop();
        });
        var exit = m.Run();
        await stopper.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(VpExitReason.StopRequested, exit.Reason);
        Assert.True(m.Vp.GetState().Gprs[0] >= 50_000);
    }

    [Fact]
    public void External_interrupt_is_delivered_when_interrupts_are_enabled()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            var wait = a.CreateLabel();
            a.sti();
            a.Label(ref wait);
            a.cmp(rbx, 1);
            a.jne(wait);
            a.hlt();
        });
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.mov(ebx, 1);
            a.iretq();
        });
        m.SetGate(0x20, LongModeMachine.HandlerBase);
        m.Vp.SetState(m.InitialState());
        m.Vp.InjectExternalInterrupt(0x20);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(1UL, m.Vp.GetState().Gprs[3]);
    }

    [Fact]
    public void STI_holds_a_pending_interrupt_off_for_exactly_one_instruction()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.sti();
            a.inc(rcx);
            a.inc(rdx);
            a.inc(rdx);
            a.hlt();
        });
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            // Record how far the interrupted code had got.
            a.mov(rbx, rcx);
            a.mov(rsi, rdx);
            a.hlt();
        });
        m.SetGate(0x20, LongModeMachine.HandlerBase);
        m.Vp.SetState(m.InitialState());
        m.Vp.InjectExternalInterrupt(0x20);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(1UL, s.Gprs[3]);
        Assert.Equal(0UL, s.Gprs[6]);
    }

    [Fact]
    public void Interrupt_stays_pending_while_IF_is_clear_and_HLT_exits()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a => a.hlt());
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.mov(ebx, 1);
            a.hlt();
        });
        m.SetGate(0x20, LongModeMachine.HandlerBase);
        m.Vp.SetState(m.InitialState());
        m.Vp.InjectExternalInterrupt(0x20);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(0UL, s.Gprs[3]);
        Assert.Equal(0x20, s.PendingInterrupt);
    }

    [Fact]
    public void Interrupt_window_exit_comes_once_STI_opens_interrupts()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.@out(0x80, al); // IF is still clear here
            a.sti();
            a.nop();
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());
        m.Vp.RequestInterruptWindow(true);

        Assert.Equal(VpExitReason.PortOut, m.Run().Reason);
        var exit = m.Run();
        Assert.Equal(VpExitReason.InterruptWindow, exit.Reason);
        Assert.True((m.Vp.GetState().Rflags & 0x200) != 0);
        m.Vp.RequestInterruptWindow(false);
        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
    }

    [Fact]
    public void VMCALL_at_CPL0_is_a_hypercall_exit()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(ecx, 0x5C);
            a.vmcall();
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Hypercall, m.Run().Reason);
        Assert.Equal(0x5CUL, m.Vp.GetState().Gprs[1]);
        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
    }
}
