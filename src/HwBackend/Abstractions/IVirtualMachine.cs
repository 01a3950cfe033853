using Actors.HwBackend.Memory;

namespace Actors.HwBackend.Abstractions;

/// <summary>One partition's hardware: its guest-physical memory, its vCPUs and its dirty log.</summary>
public interface IVirtualMachine : IDisposable
{
    GuestPhysicalMap Memory { get; }

    IReadOnlyList<IVirtualProcessor> Processors { get; }

    DirtyPageBitmap DirtyLog => Memory.DirtyLog;

    /// <summary>
    /// Copies the set of pages written since the previous call into <paramref name="destination"/>
    /// (one bit per RAM page, as <see cref="DirtyPageBitmap"/>) and clears it, re-arming write
    /// tracking in every vCPU before it returns: a write that lands after this call is in the next
    /// call's set. Use this, not <see cref="DirtyPageBitmap.FetchAndClear"/>, while vCPUs run.
    /// </summary>
    void CollectDirtyPages(Span<ulong> destination);
}
