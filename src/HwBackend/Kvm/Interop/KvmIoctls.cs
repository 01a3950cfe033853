using System.Runtime.CompilerServices;

namespace Actors.HwBackend.Kvm.Interop;

/// <summary>
/// The KVM ioctl request numbers, built the way the kernel's _IO/_IOR/_IOW/_IOWR macros build them
/// (direction in bits 31:30, argument size in 29:16, type 0xAE in 15:8, number in 7:0), from the sizes
/// of our own structure definitions; the layout probe test compares every one with the kernel headers.
/// </summary>
internal static unsafe class KvmIoctls
{
    private const uint Type = 0xAE;
    private const uint None = 0, Write = 1, Read = 2;

    // System (/dev/kvm)
    public static readonly nuint GetApiVersion = Io(0x00);
    public static readonly nuint CreateVm = Io(0x01);
    public static readonly nuint GetMsrIndexList = Iowr(0x02, sizeof(uint));
    public static readonly nuint CheckExtension = Io(0x03);
    public static readonly nuint GetVcpuMmapSize = Io(0x04);
    public static readonly nuint GetSupportedCpuid = Iowr(0x05, 8);

    // VM
    public static readonly nuint CreateVcpu = Io(0x41);
    public static readonly nuint GetDirtyLog = Iow(0x42, sizeof(KvmDirtyLog));
    public static readonly nuint SetUserMemoryRegion = Iow(0x46, sizeof(KvmUserspaceMemoryRegion));
    public static readonly nuint SetTssAddr = Io(0x47);
    public static readonly nuint SetIdentityMapAddr = Iow(0x48, sizeof(ulong));
    public static readonly nuint EnableCap = Iow(0xa3, sizeof(KvmEnableCap));
    public static readonly nuint SetMsrFilter = Iow(0xc6, sizeof(KvmMsrFilter));

    // vCPU
    public static readonly nuint Run = Io(0x80);
    public static readonly nuint GetRegs = Ior(0x81, sizeof(KvmRegs));
    public static readonly nuint SetRegs = Iow(0x82, sizeof(KvmRegs));
    public static readonly nuint GetSregs = Ior(0x83, sizeof(KvmSregs));
    public static readonly nuint SetSregs = Iow(0x84, sizeof(KvmSregs));
    public static readonly nuint Interrupt = Iow(0x86, sizeof(uint));
    public static readonly nuint GetMsrs = Iowr(0x88, 8);
    public static readonly nuint SetMsrs = Iow(0x89, 8);
    public static readonly nuint GetFpu = Ior(0x8c, sizeof(KvmFpu));
    public static readonly nuint SetFpu = Iow(0x8d, sizeof(KvmFpu));
    public static readonly nuint SetCpuid2 = Iow(0x90, 8);
    public static readonly nuint GetMpState = Ior(0x98, sizeof(uint));
    public static readonly nuint SetMpState = Iow(0x99, sizeof(uint));
    public static readonly nuint Nmi = Io(0x9a);
    public static readonly nuint GetVcpuEvents = Ior(0x9f, sizeof(KvmVcpuEvents));
    public static readonly nuint SetVcpuEvents = Iow(0xa0, sizeof(KvmVcpuEvents));
    public static readonly nuint GetDebugRegs = Ior(0xa1, sizeof(KvmDebugRegs));
    public static readonly nuint SetDebugRegs = Iow(0xa2, sizeof(KvmDebugRegs));
    public static readonly nuint GetTscKhz = Io(0xa3);
    public static readonly nuint GetXsave = Ior(0xa4, sizeof(KvmXsave));
    public static readonly nuint SetXsave = Iow(0xa5, sizeof(KvmXsave));
    public static readonly nuint GetXcrs = Ior(0xa6, sizeof(KvmXcrs));
    public static readonly nuint SetXcrs = Iow(0xa7, sizeof(KvmXcrs));
    public static readonly nuint SetDeviceAttr = Iow(0xe1, sizeof(KvmDeviceAttr));
    public static readonly nuint GetDeviceAttr = Iow(0xe2, sizeof(KvmDeviceAttr));
    public static readonly nuint HasDeviceAttr = Iow(0xe3, sizeof(KvmDeviceAttr));

    private static nuint Io(uint number) => Encode(None, number, 0);

    private static nuint Ior(uint number, int size) => Encode(Read, number, size);

    private static nuint Iow(uint number, int size) => Encode(Write, number, size);

    private static nuint Iowr(uint number, int size) => Encode(Read | Write, number, size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint Encode(uint direction, uint number, int size) =>
        (direction << 30) | ((uint)size << 16) | (Type << 8) | number;
}
