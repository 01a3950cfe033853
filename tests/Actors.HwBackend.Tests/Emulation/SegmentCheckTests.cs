using Actors.HwBackend.Abstractions;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>VERR, VERW, LAR and LSL answer in ZF and never fault on the selector they are asked about.</summary>
public sealed class SegmentCheckTests
{
    private const ulong ZeroFlag = 1 << 6;

    [Fact]
    public void VerwAndVerrTellDataFromCodeAndNullFromBoth()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            // R8..R11: ZF of VERW data, VERW code, VERR code, VERW null; R12: VERW past the GDT's limit.
            a.mov(ax, LongModeMachine.DataSelector); a.verw(ax); a.pushfq(); a.pop(r8);
            a.mov(ax, LongModeMachine.CodeSelector); a.verw(ax); a.pushfq(); a.pop(r9);
            a.verr(ax); a.pushfq(); a.pop(r10);
            a.xor(eax, eax); a.verw(ax); a.pushfq(); a.pop(r11);
            a.mov(ax, 0x40); a.verw(ax); a.pushfq(); a.pop(r12);
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        ulong[] r = m.Vp.GetState().Gprs;
        Assert.Equal(ZeroFlag, r[8] & ZeroFlag);
        Assert.Equal(0UL, r[9] & ZeroFlag);
        Assert.Equal(ZeroFlag, r[10] & ZeroFlag);
        Assert.Equal(0UL, r[11] & ZeroFlag);
        Assert.Equal(0UL, r[12] & ZeroFlag);
    }

    [Fact]
    public void LarAndLslReportAccessRightsAndLimit()
    {
        using var m = new LongModeMachine();
        m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(ecx, LongModeMachine.DataSelector);
            a.mov(rbx, 0x1111);
            a.lar(ebx, ecx); a.pushfq(); a.pop(r8);
            a.lsl(esi, ecx); a.pushfq(); a.pop(r9);
            a.mov(rdi, 0x2222);
            a.mov(ecx, 0x48); a.lsl(edi, ecx); a.pushfq(); a.pop(r10); // beyond the GDT: ZF=0, RDI kept
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        ulong[] r = m.Vp.GetState().Gprs;
        Assert.Equal(ZeroFlag, r[8] & ZeroFlag);
        Assert.Equal(0x00C0_9300UL, r[3]); // G, D/B, P, DPL 0, S, type 3
        Assert.Equal(ZeroFlag, r[9] & ZeroFlag);
        Assert.Equal(0xFFFF_FFFFUL, r[6]);
        Assert.Equal(0UL, r[10] & ZeroFlag);
        Assert.Equal(0x2222UL, r[7]);
    }
}
