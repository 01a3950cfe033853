namespace Actors.HwBackend.Memory;

/// <summary>
/// Told when the host (a loader, a device, a migration restore) writes guest RAM behind the
/// vCPUs' backs, so the software CPU can drop decoded code for those pages.
/// </summary>
public interface IGuestMemoryObserver
{
    void OnHostWrite(ulong gpa, ulong length);
}
