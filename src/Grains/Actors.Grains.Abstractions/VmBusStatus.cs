namespace Actors.Grains;

/// <summary>A running VM's VMBus as <c>hvctl vm bus</c> shows it: whether the guest connected, at which version, and every channel.</summary>
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
