namespace Actors.Grains;

/// <summary>A virtual switch's ports and what each has carried.</summary>
[GenerateSerializer]
[Alias("Actors.SwitchStatus")]
public sealed record SwitchStatus(
    [property: Id(0)] string Name,
    [property: Id(1)] IReadOnlyList<SwitchPortStatus> Ports,
    [property: Id(2)] long Dropped);

/// <summary>One port: its name and MAC, the host its frames go to, and frames and bytes each way (in: from the VM to the switch).</summary>
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
