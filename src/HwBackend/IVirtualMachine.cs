using Actors.HwBackend.Memory;

namespace Actors.HwBackend;

/// <summary>One partition's hardware: its guest-physical memory, its vCPUs and its dirty log.</summary>
public interface IVirtualMachine : IDisposable
{
    GuestPhysicalMap Memory { get; }

    IReadOnlyList<IVirtualProcessor> Processors { get; }

    DirtyPageBitmap DirtyLog => Memory.DirtyLog;
}
