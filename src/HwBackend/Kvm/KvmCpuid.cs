using Actors.HwBackend.Kvm.Interop;

namespace Actors.HwBackend.Kvm;

/// <summary>
/// The CPUID a vCPU on KVM reports: what KVM can virtualize on this host, with this vCPU's APIC ID, the
/// hypervisor bit, and the hypervisor leaves (0x40000000 and up) of this hypervisor instead of KVM's own
/// paravirtual ones, which would lead a guest to kvmclock and other interfaces that exist on KVM hosts only.
/// </summary>
internal static class KvmCpuid
{
    private const uint HypervisorLeaves = 0x4000_0000;

    // "ActorsSoftVM", the name the software CPU gives too: a guest sees one hypervisor, whatever runs it.
    private const uint Vendor1 = 0x6F74_6341, Vendor2 = 0x6F53_7372, Vendor3 = 0x4D56_7466;

    public static KvmCpuidEntry2[] For(KvmCpuidEntry2[] supported, int apicId)
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

        // The enlightenments' leaves would go here; KvmProcessor refuses them until KVM_EXIT_HYPERV is handled.
        entries.Add(new KvmCpuidEntry2 { Function = HypervisorLeaves, Eax = HypervisorLeaves, Ebx = Vendor1, Ecx = Vendor2, Edx = Vendor3 });
        return [.. entries];
    }
}
