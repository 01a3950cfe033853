using System.Runtime.InteropServices;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>The few libc calls the native executor needs to place memory at fixed host addresses.</summary>
internal static unsafe class LibC
{
    public const int ProtNone = 0;
    public const int ProtRead = 1;
    public const int ProtWrite = 2;
    public const int ProtExec = 4;

    public const int MapPrivate = 0x02;
    public const int MapFixed = 0x10;
    public const int MapAnonymous = 0x20;

    /// <summary>Like MAP_FIXED but fails with EEXIST instead of silently replacing an existing mapping (Linux 4.17+).</summary>
    public const int MapFixedNoReplace = 0x100000;

    public static readonly nint MapFailed = -1;

    [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static extern nint Mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    public static extern int Mprotect(nint addr, nuint length, int prot);

    public const int SigBlock = 0;
    public const int SigSetMask = 2;

    /// <summary>glibc's sigset_t is 1024 bits.</summary>
    public const int SigSetBytes = 128;

    [DllImport("libc", EntryPoint = "pthread_sigmask")]
    public static extern int PthreadSigmask(int how, byte* set, byte* oldSet);

    public const int ArchGetFs = 0x1003;

    [DllImport("libc", EntryPoint = "arch_prctl", SetLastError = true)]
    public static extern int ArchPrctl(int code, ulong* address);

    [DllImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static extern int Munmap(nint addr, nuint length);

    /// <summary>Maps anonymous zeroed memory exactly at <paramref name="address"/>, never over an existing mapping.</summary>
    public static byte* MapFixedAt(ulong address, ulong length, int prot)
    {
        nint p = Mmap((nint)address, (nuint)length, prot, MapPrivate | MapAnonymous | MapFixedNoReplace, -1, 0);
        if (p == MapFailed)
            throw new InvalidOperationException($"mmap at 0x{address:x} (+0x{length:x}) failed: errno {Marshal.GetLastPInvokeError()}");
        if ((ulong)p != address)
        {
            // Kernels before 4.17 ignore the unknown flag and treat the address as a hint.
            Munmap(p, (nuint)length);
            throw new InvalidOperationException($"mmap returned 0x{p:x} instead of the fixed address 0x{address:x}");
        }
        return (byte*)p;
    }
}
