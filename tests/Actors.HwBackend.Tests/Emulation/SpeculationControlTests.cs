using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Snapshots;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// The speculation controls a guest's kernel looks for before it chooses its mitigations: CPUID
/// names them, IA32_ARCH_CAPABILITIES says this CPU is immune to what it can be immune to, and
/// IA32_SPEC_CTRL and IA32_PRED_CMD take what the kernel writes and refuse the rest.
/// </summary>
public sealed class SpeculationControlTests
{
    private const uint SpecCtrl = 0x48, PredCmd = 0x49, ArchCapabilities = 0x10A;
    private const ulong Ibrs = 1, Stibp = 2, BhiDisS = 1UL << 10;

    [Fact]
    public void Cpuid_leaf_7_names_the_controls_and_subleaf_2_the_branch_history_control()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(eax, 7);
            a.xor(ecx, ecx);
            a.cpuid();
            a.mov(r8d, eax); // the last subleaf
            a.mov(r9d, edx);
            a.mov(eax, 7);
            a.mov(ecx, 2);
            a.cpuid();
            a.mov(r10d, edx);
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        ulong[] gprs = m.Vp.GetState().Gprs;
        Assert.Equal(2UL, gprs[8]);
        Assert.Equal((1UL << 26) | (1UL << 29), gprs[9] & ((1UL << 26) | (1UL << 29))); // IBRS/IBPB, IA32_ARCH_CAPABILITIES
        Assert.Equal(1UL << 4, gprs[10]); // BHI_CTRL
    }

    [Fact]
    public void Arch_capabilities_says_immune_and_cannot_be_written()
    {
        using IVirtualMachine machine = TestMachines.Create(1UL << 20);
        IVirtualProcessor vp = machine.Processors[0];

        Assert.True(vp.TryGetMsr(ArchCapabilities, out ulong capabilities));
        // RDCL_NO (no page-table isolation), IBRS_ALL (no retpolines), MDS_NO (no VERW on each
        // return to user mode), ITS_NO (no return thunks), among the rest.
        foreach (int bit in new[] { 0, 1, 4, 5, 6, 8, 13, 14, 15, 20, 24, 26, 27, 62 })
            Assert.True((capabilities & (1UL << bit)) != 0, $"bit {bit} of {capabilities:x}");
        Assert.Equal(0UL, capabilities & (1UL << 2)); // not RSBA: returns never fall back to the branch target buffer
        Assert.False(vp.TrySetMsr(ArchCapabilities, 0));
    }

    [Fact]
    public void Spec_ctrl_keeps_ibrs_and_bhi_dis_s_refuses_other_bits_and_moves_with_the_state()
    {
        using IVirtualMachine machine = TestMachines.Create(1UL << 20);
        IVirtualProcessor vp = machine.Processors[0];

        Assert.True(vp.TryGetMsr(SpecCtrl, out ulong value));
        Assert.Equal(0UL, value);
        Assert.True(vp.TrySetMsr(SpecCtrl, Ibrs | BhiDisS));
        Assert.False(vp.TrySetMsr(SpecCtrl, Ibrs | Stibp)); // STIBP is not advertised: #GP
        Assert.True(vp.TryGetMsr(SpecCtrl, out value));
        Assert.Equal(Ibrs | BhiDisS, value);

        VpState state = vp.GetState();
        Assert.Equal(Ibrs | BhiDisS, state.SpecCtrl);
        using IVirtualMachine target = TestMachines.Create(1UL << 20);
        target.Processors[0].SetState(state);
        Assert.True(target.Processors[0].TryGetMsr(SpecCtrl, out value));
        Assert.Equal(Ibrs | BhiDisS, value);
    }

    [Fact]
    public void A_version_4_vcpu_section_reads_with_spec_ctrl_clear()
    {
        var state = new VpState { PendingDebugExceptions = 1UL << 14, SpecCtrl = Ibrs };
        var writer = new SnapshotSectionWriter(4096);
        state.Write(writer);
        // Version 4 ended with the pending debug exceptions: the same bytes without IA32_SPEC_CTRL's 8.
        var reader = new SnapshotSectionReader("vcpu/0", 4, writer.Written[..^8]);
        VpState old = VpState.Read(ref reader, 4);
        Assert.Equal(0, reader.Remaining);
        Assert.Equal(1UL << 14, old.PendingDebugExceptions);
        Assert.Equal(0UL, old.SpecCtrl);
    }

    [Fact]
    public void Pred_cmd_takes_an_ibpb_and_is_write_only()
    {
        using IVirtualMachine machine = TestMachines.Create(1UL << 20);
        IVirtualProcessor vp = machine.Processors[0];

        Assert.True(vp.TrySetMsr(PredCmd, 1));
        Assert.False(vp.TrySetMsr(PredCmd, 2));
        Assert.False(vp.TryGetMsr(PredCmd, out _));
    }
}
