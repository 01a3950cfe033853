namespace Actors.Grains;

/// <summary>A running VM's VMBus as <c>hvctl vm bus</c> shows it: whether the guest connected, at which version, and every channel.</summary>
/// <param name="Host">The host the VM, and so its bus, runs on.</param>
/// <param name="Connected">Whether the guest's VMBus driver has connected (agreed on a version).</param>
/// <param name="Version">The VMBus protocol version agreed on ("5.0"), or null before the guest connected.</param>
/// <param name="Channels">Every channel the host offers, by relid.</param>
[GenerateSerializer]
[Alias("Actors.VmBusStatus")]
public sealed record VmBusStatus(
    [property: Id(0)] string Host,
    [property: Id(1)] bool Connected,
    [property: Id(2)] string? Version,
    [property: Id(3)] IReadOnlyList<VmBusChannelStatus> Channels);

/// <summary>
/// One offered channel: its relid, the device (by name and class), its instance (the device's name
/// in the guest), where it stands (offered, open, withdrawn, releasing), the VP its interrupts go
/// to and its ring pages when open, and where its VSP runs.
/// </summary>
/// <param name="Relid">The channel's relative id, by which guest and host name it.</param>
/// <param name="Device">The device's name ("heartbeat", "scsi", "network").</param>
/// <param name="InterfaceType">The device class's GUID, as Hyper-V defines it.</param>
/// <param name="Instance">The device instance's GUID, its name in the guest.</param>
/// <param name="State">Where the channel stands: "offered", "open", "withdrawn", "releasing", or not offered yet while the guest has not connected.</param>
/// <param name="TargetVp">The vCPU its interrupts go to, once open; null before.</param>
/// <param name="RingPages">The pages of its ring buffers, once open; 0 before.</param>
/// <param name="ServedBy">Where its VSP runs: the VM's own worker, or the grain on another host that serves it.</param>
[GenerateSerializer]
[Alias("Actors.VmBusChannelStatus")]
public sealed record VmBusChannelStatus(
    [property: Id(0)] uint Relid,
    [property: Id(1)] string Device,
    [property: Id(2)] Guid InterfaceType,
    [property: Id(3)] Guid Instance,
    [property: Id(4)] string State,
    [property: Id(5)] uint? TargetVp,
    [property: Id(6)] int RingPages,
    [property: Id(7)] string ServedBy);
