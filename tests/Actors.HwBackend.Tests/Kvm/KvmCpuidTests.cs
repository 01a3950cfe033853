using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Kvm;
using Actors.HwBackend.Kvm.Interop;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Tests.Devices;
using Actors.HwBackend.Tests.Enlightenments;
using Xunit;

namespace Actors.HwBackend.Tests.Kvm;

/// <summary>The CPUID a vCPU on KVM presents, built from what KVM offers (no /dev/kvm needed).</summary>
public sealed class KvmCpuidTests
{
    private const uint KvmSignature = 0x4B4D_564B; // "KVMK", KVM's own leaf 0x40000000

    // What KVM_GET_SUPPORTED_CPUID gives, cut down: leaf 1 and KVM's paravirtual leaves.
    private static readonly KvmCpuidEntry2[] Supported =
    [
        new() { Function = 1, Ebx = 0x0000_0800, Ecx = 0x0000_0001 },
        new() { Function = 0x4000_0000, Eax = 0x4000_0001, Ebx = KvmSignature },
        new() { Function = 0x4000_0001, Eax = 0x0100_0000 },
    ];

    [Fact]
    public void A_plain_vCPU_names_this_hypervisor_instead_of_KVM()
    {
        KvmCpuidEntry2[] entries = KvmCpuid.For(Supported, apicId: 3);

        KvmCpuidEntry2 hypervisor = Assert.Single(entries, e => e.Function >= 0x4000_0000);
        Assert.Equal((0x4000_0000u, 0x6F74_6341u), (hypervisor.Function, hypervisor.Ebx)); // "Acto..."
        KvmCpuidEntry2 leaf1 = Assert.Single(entries, e => e.Function == 1);
        Assert.Equal(3u, leaf1.Ebx >> 24);
        Assert.NotEqual(0u, leaf1.Ecx & (1u << 31));
    }

    [Fact]
    public void An_enlightened_vCPU_presents_the_Hyper_V_leaves_the_software_CPU_does()
    {
        using var ram = new GuestRam(1 << 20);
        var memory = new GuestPhysicalMap(ram);
        var clock = new ManualClock();
        var partition = new HvPartition(memory, clock, 1, 2_000_000_000, _ => { });
        var apic = new RecordingSintDelivery();
        var synIc = new SyntheticInterruptController(memory, apic);
        var vp = new HvProcessor(partition, 0, synIc, new SyntheticTimers(clock, synIc, apic, () => { }), new HypercallDispatcher(memory, null));

        KvmCpuidEntry2[] entries = KvmCpuid.For(Supported, apicId: 0, vp);

        KvmCpuidEntry2[] hypervisor = [.. entries.Where(e => e.Function >= 0x4000_0000)];
        Assert.Equal(Enumerable.Range(0, (int)(HyperVCpuid.MaxLeaf - 0x4000_0000 + 1)).Select(i => 0x4000_0000u + (uint)i), hypervisor.Select(e => e.Function));
        Assert.DoesNotContain(hypervisor, e => e.Ebx == KvmSignature);
        foreach (KvmCpuidEntry2 e in hypervisor)
        {
            Assert.True(HyperVCpuid.TryQuery(e.Function, out uint eax, out uint ebx, out uint ecx, out uint edx));
            Assert.Equal((eax, ebx, ecx, edx), (e.Eax, e.Ebx, e.Ecx, e.Edx));
        }
        Assert.Equal(0x3123_7648u, hypervisor[1].Eax); // "Hv#1", which also turns on KVM's (idle) Hyper-V emulation
    }
}
