using System.Runtime.InteropServices;
using Actors.HwBackend.Kvm.Interop;

namespace Actors.HwBackend.Kvm;

/// <summary>
/// An open <c>/dev/kvm</c>: the API version check, capability queries, and what the system file
/// descriptor answers (the vCPU's shared page size, the CPUID KVM can give a guest).
/// </summary>
internal sealed unsafe class KvmDevice : IDisposable
{
    public const string DevicePath = "/dev/kvm";

    /// <summary>The one stable KVM API version, since Linux 2.6.22.</summary>
    private const int StableApiVersion = 12;

    private const int E2BIG = 7;

    // What the backend cannot run without: memory slots, a kick that cannot be lost, MSRs it owns
    // exiting to it, and the state it saves and restores.
    private static readonly KvmCapability[] Required =
    [
        KvmCapability.UserMemory, KvmCapability.SyncMmu, KvmCapability.ImmediateExit, KvmCapability.X86UserSpaceMsr,
        KvmCapability.X86MsrFilter, KvmCapability.VcpuEvents, KvmCapability.Debugregs, KvmCapability.MpState,
        KvmCapability.ExtCpuid, KvmCapability.Xsave,
    ];

    private KvmDevice(int fd) => Fd = fd;

    public int Fd { get; private set; }

    /// <summary>Opens the device and checks it has what the backend needs; throws <see cref="KvmException"/> saying why not.</summary>
    public static KvmDevice Open()
    {
        int fd = LibC.Open(DevicePath, LibC.O_RDWR | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            throw new KvmException(error switch
            {
                LibC.ENOENT => $"{DevicePath} does not exist: this host has no KVM (no VT-x/AMD-V, or the kvm modules are not loaded)",
                LibC.EACCES => $"{DevicePath}: permission denied (add this user to the 'kvm' group)",
                _ => $"{DevicePath}: {LibC.Describe(error)}",
            });
        }

        var device = new KvmDevice(fd);
        try
        {
            int version = LibC.Ioctl(fd, KvmIoctls.GetApiVersion, 0);
            if (version != StableApiVersion)
                throw new KvmException($"{DevicePath} speaks KVM API version {version}, not {StableApiVersion}");
            foreach (KvmCapability capability in Required)
            {
                if (device.CheckExtension(capability) <= 0)
                    throw new KvmException($"{DevicePath} lacks KVM_CAP {capability} ({(uint)capability}), which the backend needs");
            }

            return device;
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>KVM_CHECK_EXTENSION: 0 when absent, else the capability's value (often 1, sometimes a count).</summary>
    public int CheckExtension(KvmCapability capability) => Math.Max(0, LibC.Ioctl(Fd, KvmIoctls.CheckExtension, (nint)capability));

    public int VcpuMmapSize => Checked(LibC.Ioctl(Fd, KvmIoctls.GetVcpuMmapSize, 0), "KVM_GET_VCPU_MMAP_SIZE");

    /// <summary>Every CPUID leaf KVM can give a guest, with the bits it can virtualize.</summary>
    public KvmCpuidEntry2[] SupportedCpuid()
    {
        for (int capacity = 128; ; capacity *= 2)
        {
            byte[] buffer = new byte[8 + (capacity * sizeof(KvmCpuidEntry2))];
            fixed (byte* p = buffer)
            {
                *(uint*)p = (uint)capacity;
                if (LibC.Ioctl(Fd, KvmIoctls.GetSupportedCpuid, p) < 0)
                {
                    int error = Marshal.GetLastPInvokeError();
                    if (error == E2BIG && capacity < 4096)
                        continue;
                    throw new KvmException($"KVM_GET_SUPPORTED_CPUID: {LibC.Describe(error)}");
                }

                return new ReadOnlySpan<KvmCpuidEntry2>(p + 8, (int)*(uint*)p).ToArray();
            }
        }
    }

    /// <summary>Returns <paramref name="result"/>, or throws with errno's text when it is negative.</summary>
    public static int Checked(int result, string call) =>
        result >= 0 ? result : throw new KvmException($"{call}: {LibC.Describe(Marshal.GetLastPInvokeError())}");

    public void Dispose()
    {
        if (Fd >= 0)
        {
            LibC.Close(Fd);
            Fd = -1;
        }
    }
}
