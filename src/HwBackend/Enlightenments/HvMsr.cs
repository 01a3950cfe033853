namespace Actors.HwBackend.Enlightenments;

/// <summary>The Hyper-V synthetic MSRs this hypervisor implements (TLFS, "Synthetic MSRs").</summary>
public static class HvMsr
{
    public const uint GuestOsId = 0x4000_0000;
    public const uint Hypercall = 0x4000_0001;
    public const uint VpIndex = 0x4000_0002;
    public const uint Reset = 0x4000_0003;
    public const uint TimeRefCount = 0x4000_0020;
    public const uint ReferenceTsc = 0x4000_0021;
    public const uint TscFrequency = 0x4000_0022;
    public const uint ApicFrequency = 0x4000_0023;
    public const uint VpAssistPage = 0x4000_0073;
    public const uint SControl = 0x4000_0080;
    public const uint SVersion = 0x4000_0081;
    public const uint Siefp = 0x4000_0082;
    public const uint Simp = 0x4000_0083;
    public const uint Eom = 0x4000_0084;
    public const uint Sint0 = 0x4000_0090;
    public const uint Sint15 = 0x4000_009F;
    public const uint Stimer0Config = 0x4000_00B0; // then STIMER0_COUNT, STIMER1_CONFIG, ... STIMER3_COUNT at 0x400000B7
    public const uint CrashP0 = 0x4000_0100;
    public const uint CrashP4 = 0x4000_0104;
    public const uint CrashControl = 0x4000_0105;
    public const uint TscInvariantControl = 0x4000_0118;

    /// <summary>The synthetic MSR range: every index here belongs to the enlightenments, implemented or not.</summary>
    public static bool IsSynthetic(uint index) => index is >= 0x4000_0000 and <= 0x4000_01FF;
}
