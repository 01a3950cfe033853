using Actors.HwBackend.Kvm.Interop;

namespace Actors.HwBackend.Kvm;

/// <summary>
/// Which MSRs reach the backend instead of KVM's own handling: those KVM does not know (so they are
/// logged as unimplemented and answered with #GP, as on the software CPU), and those the platform's
/// device models own although KVM has a version of them: the APIC base and the TSC deadline (the local
/// APIC is ours) and the Hyper-V range (the enlightenments are ours, <c>HvMsr.IsSynthetic</c>). The x2APIC registers come without
/// a filter: with no in-kernel APIC, KVM does not know them.
/// </summary>
internal static unsafe class MsrRouting
{
    public const uint ApicBase = 0x1B;
    public const uint TscDeadline = 0x6E0;
    public const uint HypervFirst = 0x4000_0000;
    // 0x40000000-0x400001FF, all of HvMsr.IsSynthetic's range: the crash MSRs and TSC invariant control are above 0xFF,
    // and KVM, whose own Hyper-V emulation the Hyper-V CPUID turns on, would answer them itself.
    private const uint HypervCount = 0x200;

    // KVM_MSR_EXIT_REASON_INVAL | _UNKNOWN | _FILTER
    private const ulong ExitReasons = 1 | 2 | 4;

    public static void Apply(int vmFd)
    {
        var cap = new KvmEnableCap { Cap = (uint)KvmCapability.X86UserSpaceMsr };
        cap.Args[0] = ExitReasons;
        KvmDevice.Checked(LibC.Ioctl(vmFd, KvmIoctls.EnableCap, &cap), "KVM_ENABLE_CAP(X86_USER_SPACE_MSR)");

        // A range's bitmap has a bit per MSR; a clear bit denies the access to KVM, so it exits to us.
        byte* denied = stackalloc byte[(int)(HypervCount / 8)];
        new Span<byte>(denied, (int)(HypervCount / 8)).Clear();
        var filter = new KvmMsrFilter();
        filter.Ranges[0] = Range(ApicBase, 1, denied);
        filter.Ranges[1] = Range(TscDeadline, 1, denied);
        filter.Ranges[2] = Range(HypervFirst, HypervCount, denied);
        KvmDevice.Checked(LibC.Ioctl(vmFd, KvmIoctls.SetMsrFilter, &filter), "KVM_X86_SET_MSR_FILTER");
    }

    private static KvmMsrFilterRange Range(uint first, uint count, byte* bitmap) => new()
    {
        Flags = KvmMsrFilterRange.Read | KvmMsrFilterRange.Write,
        Base = first,
        Nmsrs = count,
        Bitmap = (ulong)bitmap,
    };
}
