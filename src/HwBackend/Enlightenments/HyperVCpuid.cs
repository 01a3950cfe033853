namespace Actors.HwBackend.Enlightenments;

/// <summary>
/// The hypervisor CPUID leaves of an enlightened partition (TLFS, "Feature and Interface
/// Discovery"): "Microsoft Hv" and the "Hv#1" interface, so that guests take their Hyper-V paths,
/// and exactly the features implemented here. Linux requires a maximum leaf of at least
/// 0x40000005 and the hypercall and VP index MSRs before it uses any of it.
/// </summary>
public static class HyperVCpuid
{
    public const uint MaxLeaf = 0x4000_000A;

    // 0x40000003 EAX: partition privileges, the MSRs the guest may use.
    private const uint AccessTimeRefCount = 1u << 1;
    private const uint AccessSynIc = 1u << 2;
    private const uint AccessSyntheticTimers = 1u << 3;
    private const uint AccessHypercallMsrs = 1u << 5;
    private const uint AccessVpIndex = 1u << 6;
    private const uint AccessResetMsr = 1u << 7;
    private const uint AccessReferenceTsc = 1u << 9;
    private const uint AccessFrequencyMsrs = 1u << 11;
    private const uint AccessTscInvariantControl = 1u << 15;

    // 0x40000003 EBX: the hypercalls the partition may make.
    private const uint PostMessages = 1u << 4;
    private const uint SignalEvents = 1u << 5;

    // 0x40000003 EDX: other features.
    private const uint FrequencyMsrsAvailable = 1u << 8;
    private const uint CrashMsrsAvailable = 1u << 10;
    private const uint DirectModeSyntheticTimers = 1u << 19;

    // 0x40000004 EAX: recommendations. A software CPU runs at whatever pace the host allows, so
    // the guest should not time out on it (relaxed timing).
    private const uint RelaxedTiming = 1u << 5;
    private const uint NeverNotifyLongSpinWait = 0xFFFF_FFFF;

    /// <summary>The most virtual processors (and logical processors) a partition may have.</summary>
    public const uint MaxVirtualProcessors = 240;

    public static bool TryQuery(uint leaf, out uint eax, out uint ebx, out uint ecx, out uint edx)
    {
        eax = ebx = ecx = edx = 0;
        switch (leaf)
        {
            case 0x4000_0000:
                eax = MaxLeaf;
                ebx = 0x7263_694D; ecx = 0x666F_736F; edx = 0x7648_2074; // "Microsoft Hv"
                return true;
            case 0x4000_0001:
                eax = 0x3123_7648; // "Hv#1"
                return true;
            case 0x4000_0002:
                // This hypervisor's own version, build 1 of 1.0: it is not a Windows build.
                eax = 1;
                ebx = 1u << 16;
                return true;
            case 0x4000_0003:
                eax = AccessTimeRefCount | AccessSynIc | AccessSyntheticTimers | AccessHypercallMsrs | AccessVpIndex | AccessResetMsr | AccessReferenceTsc
                    | AccessFrequencyMsrs | AccessTscInvariantControl;
                ebx = PostMessages | SignalEvents;
                edx = FrequencyMsrsAvailable | CrashMsrsAvailable | DirectModeSyntheticTimers;
                return true;
            case 0x4000_0004:
                eax = RelaxedTiming;
                ebx = NeverNotifyLongSpinWait;
                return true;
            case 0x4000_0005:
                eax = ebx = MaxVirtualProcessors;
                return true;
            case >= 0x4000_0006 and <= MaxLeaf:
                // Hardware features used by the hypervisor, nested virtualization and isolation: none.
                return true;
            default:
                return false;
        }
    }
}
