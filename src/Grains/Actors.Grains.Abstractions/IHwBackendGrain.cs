namespace Actors.Grains;

/// <summary>
/// The hardware of one host (Hyper-V's VID), keyed by host name and pinned to the silo that advertises
/// that host: the backend that runs vCPUs there, and the ledger of the host's memory. Each VM's
/// machine belongs to its worker (<see cref="IVmWorkerGrain"/>), which is admitted here before it
/// builds one and released when it frees it. Every method here is short and calls no other grain,
/// so no VM's work can queue behind another's.
/// </summary>
[Alias("Actors.IHwBackendGrain")]
public interface IHwBackendGrain : IGrainWithStringKey
{
    /// <summary>The host's backend, cores, memory and the VMs whose machines are here now.</summary>
    [Alias("GetInfo")]
    Task<HostInfo> GetInfoAsync();

    /// <summary>Reserves <paramref name="memoryBytes"/> for <paramref name="vmName"/>; refuses with one line when the host has too little free or the VM is already here.</summary>
    [Alias("Admit")]
    Task AdmitAsync(string vmName, ulong memoryBytes);

    /// <summary>An admitted VM runs here now (it was arriving by migration, or booting).</summary>
    [Alias("ReportRunning")]
    Task ReportRunningAsync(string vmName);

    /// <summary>The VM's machine here is gone; its memory is free again. Does nothing for a VM not admitted.</summary>
    [Alias("Release")]
    Task ReleaseAsync(string vmName);
}
