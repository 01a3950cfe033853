using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Worker;

namespace Actors.Grains.Worker;

/// <summary>Turns the backend's processor snapshot into the cluster's <see cref="VpStatus"/>.</summary>
public static class ProcessorStatusMapper
{
    public static VpStatus ToStatus(string vmName, string host, ProcessorSnapshot snapshot) =>
        new(vmName, snapshot.Index, host, snapshot.Paused, snapshot.InstructionsRetired,
            new Dictionary<string, long>(snapshot.ExitsByReason), snapshot.State is { } state ? ToRegisters(state) : null);

    public static VpRegisters ToRegisters(VpState state) =>
        new((ulong[])state.Gprs.Clone(), state.Rip, state.Rflags, state.Cr0, state.Cr3, state.Cr4, state.Efer, state.Cs.Selector);
}
