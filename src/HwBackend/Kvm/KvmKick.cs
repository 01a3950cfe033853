using System.Runtime.InteropServices;
using Actors.HwBackend.Kvm.Interop;

namespace Actors.HwBackend.Kvm;

/// <summary>
/// Gets a vCPU thread out of KVM_RUN: a signal makes the ioctl return EINTR. The handler must exist (an
/// ignored signal interrupts nothing) and must do nothing; it is libc's <c>getpid</c>, which is
/// async-signal-safe and ignores its argument, so no managed code ever runs in signal context.
/// A real-time signal the .NET runtime leaves alone carries it.
/// </summary>
internal static unsafe class KvmKick
{
    /// <summary>SIGRTMAX - 1 in glibc's numbering; the runtime takes SIGRTMIN for itself.</summary>
    public const int Signal = 63;

    private static readonly Lazy<bool> Installed = new(Install);

    public static void EnsureInstalled() => _ = Installed.Value;

    /// <summary>Interrupts <paramref name="thread"/> (a pthread_t) if it is in a system call; harmless otherwise.</summary>
    public static void Kick(nuint thread) => LibC.PthreadKill(thread, Signal);

    private static bool Install()
    {
        nint libc = NativeLibrary.Load("libc.so.6");
        var action = new LibC.SignalAction { Handler = NativeLibrary.GetExport(libc, "getpid") };
        if (LibC.SigAction(Signal, &action, null) != 0)
            throw new KvmException($"sigaction({Signal}): {LibC.Describe(Marshal.GetLastPInvokeError())}");
        return true;
    }
}
