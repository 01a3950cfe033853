namespace Actors.HwBackend.Abstractions;

/// <summary>
/// Hears of each use of something unimplemented, on the vCPU thread that met it. Called on the
/// slow path only (a fault or an exit is under way already), but often: a guest may probe an
/// absent MSR in a loop, so implementations count without allocating.
/// </summary>
public interface IUnimplementedSink
{
    /// <param name="what">The port, physical address, MSR index, or (for an instruction) the decoder's code of it.</param>
    /// <param name="address">The guest's RIP at the instruction that used it.</param>
    void Record(UnimplementedKind kind, ulong what, ulong address);
}
