namespace Actors.HwBackend.Emulation;

/// <summary>
/// What CPUID reports: exactly the features this CPU implements. Baseline x86-64 (FPU — the
/// x87 control and status instructions, for presence checks — DE (CR4.DE: I/O breakpoints, and
/// #UD for DR4/DR5), PSE, TSC, MSR, PAE, CX8, PGE, CMOV,
/// PAT, PSE-36, CLFLUSH, FXSR, SSE, SSE2), CX16, POPCNT, LAHF/SAHF in 64-bit mode, LZCNT, SYSCALL,
/// NX, 1 GiB pages, RDTSCP, long mode, an invariant TSC whose rate leaves 0x15 and 0x16 give and its
/// IA32_TSC_ADJUST, the speculation controls (IBRS/IBPB and IA32_ARCH_CAPABILITIES), and —
/// when the machine gives the vCPU one — the local APIC with x2APIC and TSC-deadline. Not
/// advertised, because not implemented: SYSENTER, MMX, SSE3 and later. The hypervisor bit is set
/// and leaf 0x40000000 names us.
/// </summary>
internal static class Cpuid
{
    public const uint MaxBasicLeaf = 0x16;

    // CPUID 0x15: TSC = crystal × numerator / denominator = 25 MHz × 40 = Cpu.TscHz.
    private const uint CrystalHz = 25_000_000;
    private const uint TscRatioNumerator = (uint)(Cpu.TscHz / CrystalHz);
    public const uint MaxExtendedLeaf = 0x8000_0008;

    // To software the CPU is an Intel family 6 model 15 (Core 2) part: guests take a real vendor's
    // path (an unknown vendor gets Linux's "generic init", without the TSC rate from leaf 0x15). Not
    // AMD, although QEMU's qemu64 is: Linux works around an AMD K7/K8 FXSAVE leak with EMMS and FILD,
    // MMX and x87 arithmetic that this CPU does not have.
    private const uint CpuVendor1 = 0x756E_6547; // "Genu"
    private const uint CpuVendor2 = 0x4965_6E69; // "ineI"
    private const uint CpuVendor3 = 0x6C65_746E; // "ntel"
    private const uint Signature = (0x6u << 8) | (0xFu << 4) | 0xB; // family 6, model F, stepping B

    // "ActorsSoftVM" as three little-endian words: the hypervisor's own name, at leaf 0x40000000.
    private const uint Vendor1 = 0x6F74_6341; // "Acto"
    private const uint Vendor2 = 0x6F53_7372; // "rsSo"
    private const uint Vendor3 = 0x4D56_7466; // "ftVM"

    public static void Query(uint leaf, uint subleaf, int apicId, bool localApic, out uint eax, out uint ebx, out uint ecx, out uint edx)
    {
        eax = ebx = ecx = edx = 0;
        switch (leaf)
        {
            case 0:
                eax = MaxBasicLeaf;
                ebx = CpuVendor1; edx = CpuVendor2; ecx = CpuVendor3;
                break;
            case 1:
                eax = Signature;
                ebx = ((uint)apicId << 24) | (1u << 16) | (8u << 8); // CLFLUSH line 8 * 8 = 64 bytes
                // ECX: SSE3=0, CX16 (13), POPCNT (23), hypervisor (31)
                ecx = (1u << 13) | (1u << 23) | (1u << 31);
                // EDX: FPU 0, DE 2, PSE 3, TSC 4, MSR 5, PAE 6, CX8 8, PGE 13, CMOV 15, PAT 16, PSE36 17, CLFSH 19, FXSR 24, SSE 25, SSE2 26
                edx = (1u << 0) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 13)
                    | (1u << 15) | (1u << 16) | (1u << 17) | (1u << 19) | (1u << 24) | (1u << 25) | (1u << 26);
                if (localApic)
                {
                    edx |= 1u << 9; // APIC
                    ecx |= (1u << 21) | (1u << 24); // x2APIC, TSC-deadline timer
                }
                break;
            case 0x15:
                eax = 1;
                ebx = TscRatioNumerator;
                ecx = CrystalHz;
                break;
            case 0x16:
                eax = ebx = (uint)(Cpu.TscHz / 1_000_000); // base and maximum frequency, MHz
                ecx = 100; // bus (reference) frequency, MHz
                break;
            case 7:
                if (subleaf == 0)
                {
                    eax = 2; // the last subleaf
                    ebx = 1u << 1; // IA32_TSC_ADJUST
                    // IA32_SPEC_CTRL with IBRS and IA32_PRED_CMD (26), IA32_ARCH_CAPABILITIES (29): see Cpu.ArchCapabilities.
                    edx = (1u << 26) | (1u << 29);
                }
                else if (subleaf == 2)
                    edx = 1u << 4; // BHI_CTRL: IA32_SPEC_CTRL's BHI_DIS_S, which Linux takes instead of clearing the branch history on every system call
                break;
            case 0x4000_0000:
                eax = 0x4000_0000;
                ebx = Vendor1; ecx = Vendor2; edx = Vendor3; // hypervisor leaves name the vendor in EBX, ECX, EDX order
                break;
            case 0x8000_0000:
                eax = MaxExtendedLeaf;
                ebx = CpuVendor1; edx = CpuVendor2; ecx = CpuVendor3;
                break;
            case 0x8000_0001:
                ecx = (1u << 0) | (1u << 5); // LAHF/SAHF in 64-bit mode, LZCNT (ABM)
                edx = (1u << 11) | (1u << 20) | (1u << 26) | (1u << 27) | (1u << 29); // SYSCALL, NX, 1 GiB pages, RDTSCP, LM
                break;
            case 0x8000_0006:
                // A 512 KiB 16-way L2 with 64-byte lines, the one cache Intel describes here.
                ecx = (512u << 16) | (0x8u << 12) | 64u;
                break;
            case 0x8000_0007:
                edx = 1u << 8; // invariant TSC: one rate in every state
                break;
            case 0x8000_0002:
            case 0x8000_0003:
            case 0x8000_0004:
                BrandString((int)(leaf - 0x8000_0002), out eax, out ebx, out ecx, out edx);
                break;
            case 0x8000_0008:
                eax = (uint)Cpu.PhysicalAddressBits | (48u << 8);
                break;
        }
    }

    private static readonly byte[] s_brand = System.Text.Encoding.ASCII.GetBytes("Actors software x86-64 CPU".PadRight(48, '\0'));

    private static void BrandString(int part, out uint eax, out uint ebx, out uint ecx, out uint edx)
    {
        var b = s_brand.AsSpan(part * 16, 16);
        eax = BitConverter.ToUInt32(b[0..4]);
        ebx = BitConverter.ToUInt32(b[4..8]);
        ecx = BitConverter.ToUInt32(b[8..12]);
        edx = BitConverter.ToUInt32(b[12..16]);
    }
}
