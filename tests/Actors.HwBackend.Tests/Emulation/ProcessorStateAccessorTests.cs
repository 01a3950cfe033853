using Actors.HwBackend.Abstractions;
using Xunit;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>The register-group accessors agree with the whole <see cref="VpState"/>, in both directions.</summary>
public sealed class ProcessorStateAccessorTests
{
    private const uint Lstar = 0xC000_0082;

    [Fact]
    public void General_registers_written_by_group_show_in_the_whole_state_and_back()
    {
        using IVirtualMachine machine = TestMachines.Create(1UL << 20);
        IVirtualProcessor vp = machine.Processors[0];
        var registers = new GeneralRegisters { Rip = 0x1234, Rflags = 0x202 };
        for (int i = 0; i < 16; i++)
            registers.Gprs[i] = 0x1111UL * (ulong)(i + 1);

        vp.SetGeneralRegisters(registers);
        VpState state = vp.GetState();
        Assert.Equal(Enumerable.Range(1, 16).Select(i => 0x1111UL * (ulong)i), state.Gprs);
        Assert.Equal((0x1234UL, 0x202UL), (state.Rip, state.Rflags));

        state.Gprs[0] = 0xAB;
        state.Rip = 0x5678;
        vp.SetState(state);
        GeneralRegisters read = vp.GetGeneralRegisters();
        Assert.Equal((0xABUL, 0x5678UL, 0x1111UL * 16), (read.Gprs[0], read.Rip, read.Gprs[15]));
    }

    [Fact]
    public void System_registers_round_trip_and_set_the_mode()
    {
        using IVirtualMachine machine = TestMachines.Create(1UL << 20);
        IVirtualProcessor vp = machine.Processors[0];
        SystemRegisters system = vp.GetSystemRegisters();
        system.Cs = SegmentRegister.Flat32(0x08, code: true);
        system.Ds = system.Es = system.Ss = SegmentRegister.Flat32(0x10, code: false);
        system.Gdtr = new DescriptorTableRegister(0x9000, 0x17);
        system.Cr0 |= 1; // protected mode
        system.Cr3 = 0x4000;

        vp.SetSystemRegisters(system);
        SystemRegisters read = vp.GetSystemRegisters();
        Assert.Equal(system.Cs, read.Cs);
        Assert.Equal(system.Gdtr, read.Gdtr);
        Assert.Equal((0x4000UL, 1UL), (read.Cr3, read.Cr0 & 1));
        Assert.Equal(system.Cs, vp.GetState().Cs);
    }

    [Fact]
    public void Fpu_state_round_trips_in_the_fxsave_layout_and_refuses_a_wrong_size()
    {
        using IVirtualMachine machine = TestMachines.Create(1UL << 20);
        IVirtualProcessor vp = machine.Processors[0];
        byte[] area = VpState.NewFxsaveArea();
        for (int i = 0; i < 16; i++)
            area[160 + i] = (byte)(0xA0 + i); // XMM0

        vp.SetFpuState(area);
        byte[] read = new byte[VpState.FxsaveAreaSize];
        vp.GetFpuState(read);
        Assert.Equal(area.AsSpan(160, 16).ToArray(), read.AsSpan(160, 16).ToArray());
        Assert.Equal(area.AsSpan(160, 16).ToArray(), vp.GetState().FxsaveArea.AsSpan(160, 16).ToArray());
        Assert.Throws<ArgumentException>(() => vp.GetFpuState(new byte[100]));
    }

    [Fact]
    public void Msrs_behave_as_rdmsr_and_wrmsr_would()
    {
        using IVirtualMachine machine = TestMachines.Create(1UL << 20);
        IVirtualProcessor vp = machine.Processors[0];

        Assert.True(vp.TrySetMsr(Lstar, 0xFFFF_8000_0000_1000));
        Assert.True(vp.TryGetMsr(Lstar, out ulong lstar));
        Assert.Equal(0xFFFF_8000_0000_1000UL, lstar);
        Assert.Equal(lstar, vp.GetState().Lstar);
        Assert.False(vp.TrySetMsr(Lstar, 0x0000_8000_0000_0000)); // not canonical: #GP
        Assert.False(vp.TryGetMsr(0x1234_5678, out _));
    }

    [Fact]
    public void Tsc_writes_move_tsc_adjust_and_tsc_adjust_writes_move_the_tsc()
    {
        using IVirtualMachine machine = TestMachines.Create(1UL << 20);
        IVirtualProcessor vp = machine.Processors[0];
        long offset = vp.TscOffset;
        Assert.True(vp.TryGetMsr(0x3B, out ulong adjust));
        Assert.Equal(0UL, adjust);

        Assert.True(vp.TrySetMsr(0x10, 1UL << 40));
        Assert.True(vp.TryGetMsr(0x3B, out adjust));
        Assert.Equal(vp.TscOffset - offset, (long)adjust);

        Assert.True(vp.TrySetMsr(0x3B, 0));
        Assert.Equal(offset, vp.TscOffset);

        // A whole-state round trip keeps both, as INIT and migration need.
        vp.TscOffset = offset + 12345;
        VpState state = vp.GetState();
        vp.SetState(state);
        Assert.True(vp.TryGetMsr(0x3B, out adjust));
        Assert.Equal(0UL, adjust);
    }
}
