using Actors.HwBackend.Memory;

namespace Actors.HwBackend.Abstractions;

/// <summary>One partition's hardware: its guest-physical memory, its vCPUs and its dirty log.</summary>
public interface IVirtualMachine : IDisposable
{
    GuestPhysicalMap Memory { get; }

    IReadOnlyList<IVirtualProcessor> Processors { get; }

    /// <summary>The rate its vCPUs' TSCs run at, in Hz: what the guest must be told the TSC's frequency is.</summary>
    long TscHz { get; }

    /// <summary>The length, in 64-bit words, of the bitmap <see cref="CollectDirtyPages"/> fills: one bit per RAM page.</summary>
    int DirtyPageWords { get; }

    /// <summary>
    /// Copies the set of pages written since the previous call into <paramref name="destination"/>
    /// (one bit per RAM page, <see cref="DirtyPageWords"/> words) and clears it, re-arming write
    /// tracking in every vCPU before it returns: a write that lands after this call is in the next
    /// call's set. This, and <see cref="CountDirtyPages"/>, are the only way to read the dirty log:
    /// where the hardware tracks writes (KVM), no bitmap in process memory knows them.
    /// </summary>
    void CollectDirtyPages(Span<ulong> destination);

    /// <summary>How many pages were written since the previous <see cref="CollectDirtyPages"/>, without clearing anything.</summary>
    ulong CountDirtyPages();
}
