namespace Actors.Grains;

/// <summary>
/// A child partition (VM), keyed by VM name: its configuration, lifecycle and placement. Configuration
/// and lifecycle persist in grain storage. Refusals throw <see cref="HypervisorException"/>.
/// </summary>
[Alias("Actors.IPartitionGrain")]
public interface IPartitionGrain : IGrainWithStringKey
{
    /// <summary>Defines the VM (state Defined). Refused if it exists and is not Defined, Off or Failed.</summary>
    [Alias("Create")]
    Task<VmStatus> CreateAsync(VmConfiguration configuration);

    /// <summary>Places the VM on a host (its preferred host, else the one with most free memory) and boots it.</summary>
    [Alias("Start")]
    Task<VmStatus> StartAsync();

    [Alias("Stop")]
    Task<VmStatus> StopAsync();

    [Alias("Pause")]
    Task<VmStatus> PauseAsync();

    [Alias("Resume")]
    Task<VmStatus> ResumeAsync();

    /// <summary>Removes the VM; refused while it runs.</summary>
    [Alias("Delete")]
    Task DeleteAsync();

    /// <summary>The VM's status; throws <see cref="HypervisorException"/> if no such VM was created.</summary>
    [Alias("GetStatus")]
    Task<VmStatus> GetStatusAsync();

    /// <summary>Sends bytes to the VM's serial port (its UART receive queue).</summary>
    [Alias("SendConsoleInput")]
    Task SendConsoleInputAsync(byte[] data);

    /// <summary>Called by the VM's hardware backend when the guest stops running (exit, triple fault, failure).</summary>
    [Alias("ReportExit")]
    Task ReportExitAsync(VmExited exit);
}
