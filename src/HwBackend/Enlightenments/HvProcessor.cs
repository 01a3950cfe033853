using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Enlightenments;

/// <summary>
/// One virtual processor's view of the enlightenments: the CPUID leaves, its VP index, its SynIC,
/// and the partition's MSRs through <see cref="HvPartition"/>. It is what the backend consults for
/// a synthetic MSR or a hypervisor CPUID leaf.
/// </summary>
public sealed class HvProcessor(HvPartition partition, uint vpIndex, SyntheticInterruptController synIc, SyntheticTimers timers, HypercallDispatcher hypercalls) : ISyntheticRegisters
{
    private readonly HypercallDispatcher _hypercalls = hypercalls ?? throw new ArgumentNullException(nameof(hypercalls));

    public HvPartition Partition { get; } = partition ?? throw new ArgumentNullException(nameof(partition));

    public SyntheticInterruptController SynIc { get; } = synIc ?? throw new ArgumentNullException(nameof(synIc));

    public SyntheticTimers Timers { get; } = timers ?? throw new ArgumentNullException(nameof(timers));

    /// <summary>The TLFS VP index, which is also the vCPU's APIC ID here.</summary>
    public uint VpIndex { get; } = vpIndex;

    public bool HypercallsEnabled => Partition.HypercallsEnabled;

    public ulong Hypercall(ulong input, ulong inputParameter, ulong outputParameter) =>
        _hypercalls.Call(new HypercallInput(input), inputParameter, outputParameter, (int)VpIndex);

    public bool TryQueryCpuid(uint leaf, out uint eax, out uint ebx, out uint ecx, out uint edx) =>
        HyperVCpuid.TryQuery(leaf, out eax, out ebx, out ecx, out edx);

    public bool OwnsMsr(uint index) => HvMsr.IsSynthetic(index);

    public bool TryReadMsr(uint index, out ulong value)
    {
        if (index == HvMsr.VpIndex)
        {
            value = VpIndex;
            return true;
        }
        if (SyntheticInterruptController.OwnsMsr(index))
            return SynIc.TryReadMsr(index, out value);
        if (SyntheticTimers.OwnsMsr(index))
            return Timers.TryReadMsr(index, out value);
        return Partition.TryReadMsr(VpIndex, index, out value);
    }

    // VP_INDEX is read-only to the guest.
    public bool TryWriteMsr(uint index, ulong value) =>
        index != HvMsr.VpIndex
        && (SyntheticInterruptController.OwnsMsr(index) ? SynIc.TryWriteMsr(index, value)
            : SyntheticTimers.OwnsMsr(index) ? Timers.TryWriteMsr(index, value)
            : Partition.TryWriteMsr(VpIndex, index, value));
}
