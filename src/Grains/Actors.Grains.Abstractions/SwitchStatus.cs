namespace Actors.Grains;

/// <summary>A virtual switch's ports and what each has carried.</summary>
/// <param name="Name">The switch's name.</param>
/// <param name="Ports">Its ports, in the switch's order.</param>
/// <param name="Dropped">Frames dropped before reaching any port: malformed, from unplugged ports, or with a source address that is not the port's.</param>
[GenerateSerializer]
[Alias("Actors.SwitchStatus")]
public sealed record SwitchStatus(
    [property: Id(0)] string Name,
    [property: Id(1)] IReadOnlyList<SwitchPortStatus> Ports,
    [property: Id(2)] long Dropped);

/// <summary>One port: its name and MAC, the host its frames go to, and frames and bytes each way (in: from the VM to the switch).</summary>
/// <param name="Port">The port: its VM, adapter index and MAC.</param>
/// <param name="Host">The host its frames are delivered to (its VM's), or null when the switch does not know it.</param>
/// <param name="FramesIn">Frames from the VM to the switch.</param>
/// <param name="BytesIn">Bytes of those frames.</param>
/// <param name="FramesOut">Frames from the switch to the VM.</param>
/// <param name="BytesOut">Bytes of those frames.</param>
/// <param name="Dropped">Frames meant for this port that never reached it: too many deliveries to it were under way, or a delivery failed.</param>
[GenerateSerializer]
[Alias("Actors.SwitchPortStatus")]
public sealed record SwitchPortStatus(
    [property: Id(0)] SwitchPort Port,
    [property: Id(1)] string? Host,
    [property: Id(2)] long FramesIn,
    [property: Id(3)] long BytesIn,
    [property: Id(4)] long FramesOut,
    [property: Id(5)] long BytesOut,
    [property: Id(6)] long Dropped);
