using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Worker;

/// <summary>
/// The register state INIT and a start-up IPI leave a processor in (Intel SDM vol. 3, table 9-1 and
/// section 9.4.4). INIT keeps what the SDM says it keeps — the TSC, MTRR-like MSRs, the x87/SSE
/// image (we keep it whole), and the APIC, which its own INIT handling deals with.
/// </summary>
internal static class ProcessorStartupState
{
    /// <summary>After INIT: the reset state, waiting for SIPI.</summary>
    public static VpState AfterInit(VpState current) => ResetFrom(current, codeSelector: 0xF000, codeBase: 0xFFFF_0000, rip: 0xFFF0);

    /// <summary>After a start-up IPI with <paramref name="vector"/>: real mode at CS = vector × 256, IP = 0.</summary>
    public static VpState AfterStartupIpi(VpState current, byte vector) =>
        ResetFrom(current, codeSelector: (ushort)(vector << 8), codeBase: (ulong)vector << 12, rip: 0);

    private static VpState ResetFrom(VpState current, ushort codeSelector, ulong codeBase, ulong rip)
    {
        var data = SegmentRegister.RealMode(0);
        return new VpState
        {
            Rip = rip,
            Cs = SegmentRegister.RealMode(codeSelector, code: true) with { Base = codeBase },
            Ds = data,
            Es = data,
            Ss = data,
            Fs = data,
            Gs = data,
            Ldtr = new SegmentRegister(0, 0, 0xFFFF, 2, true, 0, false, false, false, false, false, false),
            Tr = new SegmentRegister(0, 0, 0xFFFF, 11, true, 0, false, false, false, false, false, false),
            Gdtr = new DescriptorTableRegister(0, 0xFFFF),
            Idtr = new DescriptorTableRegister(0, 0xFFFF),
            // The TSC is not reset by INIT, and the APIC base belongs to the APIC.
            Tsc = current.Tsc,
            TscAdjust = current.TscAdjust,
            ApicBase = current.ApicBase,
            Pat = current.Pat,
            MiscEnable = current.MiscEnable,
            FxsaveArea = current.FxsaveArea,
        };
    }
}
