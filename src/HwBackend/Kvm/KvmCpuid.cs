using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Kvm.Interop;

namespace Actors.HwBackend.Kvm;

/// <summary>
/// The CPUID a vCPU on KVM reports: what KVM can virtualize on this host, with this vCPU's APIC ID, the
/// hypervisor bit, and the hypervisor leaves (0x40000000 and up) of this hypervisor instead of KVM's own
/// paravirtual ones, which would lead a guest to kvmclock and other interfaces that exist on KVM hosts only.
/// An enlightened partition's vCPU presents the Hyper-V leaves its <see cref="ISyntheticRegisters"/> answer, the
/// same the software CPU presents.
/// </summary>
internal static class KvmCpuid
{
    private const uint HypervisorLeaves = 0x4000_0000;

    // "ActorsSoftVM", the name the software CPU gives too: a guest sees one hypervisor, whatever runs it.
    private const uint Vendor1 = 0x6F74_6341, Vendor2 = 0x6F53_7372, Vendor3 = 0x4D56_7466;

    // The hypervisor range the leaves are looked for in (0x40000000 to 0x400000FF, as the TLFS and KVM use).
    private const uint HypervisorLeafCount = 0x100;

    /// <param name="synthetic">An enlightened partition's view of this vCPU, whose leaves replace this hypervisor's own; or null.</param>
    public static KvmCpuidEntry2[] For(KvmCpuidEntry2[] supported, int apicId, ISyntheticRegisters? synthetic = null)
    {
        var entries = new List<KvmCpuidEntry2>(supported.Length + 1);
        foreach (KvmCpuidEntry2 s in supported)
        {
            KvmCpuidEntry2 e = s;
            if (e.Function >= HypervisorLeaves && e.Function < HypervisorLeaves + 0x1_0000)
                continue;
            switch (e.Function)
            {
                case 1:
                    e.Ebx = ((uint)apicId << 24) | (1u << 16) | (e.Ebx & 0xFFFF);
                    e.Ecx |= 1u << 31; // running under a hypervisor
                    break;
                case 0xB:
                case 0x1F:
                    e.Edx = (uint)apicId; // x2APIC ID, on every level
                    break;
            }

            entries.Add(e);
        }

        if (synthetic is null)
        {
            entries.Add(new KvmCpuidEntry2 { Function = HypervisorLeaves, Eax = HypervisorLeaves, Ebx = Vendor1, Ecx = Vendor2, Edx = Vendor3 });
            return [.. entries];
        }

        // "Hv#1" in 0x40000001 also turns on KVM's own Hyper-V emulation for the vCPU; it stays idle here: the MSR
        // filter keeps the synthetic MSRs from it (so it never sees a guest OS id, without which it takes no
        // hypercall), and without an in-kernel APIC it has no SynIC. The hypercall page calls with OUT.
        for (uint leaf = HypervisorLeaves; leaf < HypervisorLeaves + HypervisorLeafCount; leaf++)
        {
            if (synthetic.TryQueryCpuid(leaf, out uint eax, out uint ebx, out uint ecx, out uint edx))
                entries.Add(new KvmCpuidEntry2 { Function = leaf, Eax = eax, Ebx = ebx, Ecx = ecx, Edx = edx });
        }

        return [.. entries];
    }
}
