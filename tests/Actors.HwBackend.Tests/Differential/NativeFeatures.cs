namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// Host instruction support, probed by executing rather than by CPUID: under a hypervisor CPUID may
/// hide a feature the silicon still executes (this host's /proc/cpuinfo lists no "abm", yet LZCNT works).
/// </summary>
internal static class NativeFeatures
{
    // lzcnt rax, rbx with rbx = 1: 63 with LZCNT, 0 when it runs as BSR.
    private static readonly Lazy<bool> Lzcnt = new(() => RaxAfter([0xF3, 0x48, 0x0F, 0xBD, 0xC3], rbx: 1) == 63);

    // tzcnt rax, rbx with rbx = 0: 64 with BMI1; as BSF the destination is unchanged or undefined.
    private static readonly Lazy<bool> Tzcnt = new(() => RaxAfter([0xF3, 0x48, 0x0F, 0xBC, 0xC3], rbx: 0) == 64);

    /// <summary>True when F3 0F BD is LZCNT; without it the CPU runs it as BSR and results differ.</summary>
    public static bool HasLzcnt => Lzcnt.Value;

    /// <summary>True when F3 0F BC is TZCNT (BMI1); without it the CPU runs it as BSF.</summary>
    public static bool HasTzcnt => Tzcnt.Value;

    private static ulong RaxAfter(byte[] code, ulong rbx)
    {
        var input = new RegisterState();
        input.Gprs[0] = 5;
        input.Gprs[3] = rbx;
        input.Gprs[4] = DiffLayout.StackTop;
        var output = new RegisterState();
        var data = new byte[DiffLayout.DataSize];
        NativeExecutor.Instance.Run(code, input, data, output, data);
        return output.Gprs[0];
    }
}
