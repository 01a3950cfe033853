using Actors.HwBackend.Abstractions;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>Unmapped and MMIO guest-physical space have defined results; code written after it was decoded runs as written.</summary>
public sealed class CpuMemoryTests
{
    [Fact]
    public void Unmapped_guest_physical_memory_reads_all_ones_and_drops_writes()
    {
        using var m = new LongModeMachine();
        const ulong unmapped = 0x4000_0000; // mapped by the page tables, beyond the 16 MiB of RAM
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(rcx, unmapped);
            a.mov(__qword_ptr[rcx], 0x1234);
            a.mov(rax, __qword_ptr[rcx]);
            a.movzx(ebx, __byte_ptr[rcx + 0xFFF]);
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(ulong.MaxValue, s.Gprs[0]);
        Assert.Equal(0xFFUL, s.Gprs[3]);
    }

    [Fact]
    public void MMIO_read_exits_and_the_completed_value_lands_in_the_register()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(rcx, 0xFEE0_0030);
            a.mov(eax, __dword_ptr[rcx]);
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        var exit = m.Run();
        Assert.Equal(VpExitReason.MmioRead, exit.Reason);
        Assert.Equal(0xFEE0_0030UL, exit.Address);
        Assert.Equal(4, exit.Size);

        m.Vp.CompleteMmioRead(0x0005_0014);
        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(0x0005_0014UL, m.Vp.GetState().Gprs[0]);
    }

    [Fact]
    public void MMIO_write_exits_with_the_value_after_the_instruction_completes()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(rcx, 0xFEC0_0000);
            a.mov(__dword_ptr[rcx + 0x10], 0xABCD);
            a.mov(ebx, 7);
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        var exit = m.Run();
        Assert.Equal(VpExitReason.MmioWrite, exit.Reason);
        Assert.Equal(0xFEC0_0010UL, exit.Address);
        Assert.Equal(0xABCDUL, exit.Data);
        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(7UL, m.Vp.GetState().Gprs[3]);
    }

    [Fact]
    public void Self_modifying_code_in_the_same_block_runs_the_new_bytes()
    {
        using var m = new LongModeMachine();
        // mov byte [target+1], 0x42 ; target: mov al, 0 ; hlt  -- the store patches the next instruction's immediate.
        ulong target = LongModeMachine.CodeBase + 7;
        var code = new byte[] { 0xC6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x42, 0xB0, 0x00, 0xF4 };
        m.Machine.Memory.Write(LongModeMachine.CodeBase, code);
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(0x42UL, m.Vp.GetState().Gprs[0] & 0xFF);
        Assert.Equal(target + 3, m.Vp.GetState().Rip);
    }

    [Fact]
    public void Code_rewritten_by_the_host_after_it_ran_runs_as_rewritten()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(eax, 1);
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());
        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(1UL, m.Vp.GetState().Gprs[0]);

        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(eax, 2);
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());
        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(2UL, m.Vp.GetState().Gprs[0]);
    }

    [Fact]
    public void Guest_writes_are_collected_as_dirty_pages_and_tracking_rearms_after_collection()
    {
        using var m = new LongModeMachine();
        // Write page 0x200 (at 2 MiB), collect, loop back and write it again.
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(rcx, 0x20_0000);
            a.mov(__qword_ptr[rcx], rax);
            a.@out(0x80, al); // checkpoint: the test collects here
            a.mov(__qword_ptr[rcx + 8], rax);
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());
        var bitmap = new ulong[m.Machine.DirtyPageWords];
        m.Machine.CollectDirtyPages(bitmap); // loader writes

        Assert.Equal(VpExitReason.PortOut, m.Run().Reason);
        m.Machine.CollectDirtyPages(bitmap);
        Assert.True((bitmap[0x200 / 64] & (1UL << (0x200 % 64))) != 0);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        m.Machine.CollectDirtyPages(bitmap);
        Assert.True((bitmap[0x200 / 64] & (1UL << (0x200 % 64))) != 0, "a write after collection must be logged again");
        m.Machine.CollectDirtyPages(bitmap);
        Assert.Equal(0UL, bitmap[0x200 / 64] & (1UL << (0x200 % 64)));
    }
}
