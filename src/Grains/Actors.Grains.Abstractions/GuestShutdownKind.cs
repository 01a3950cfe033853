namespace Actors.Grains;

/// <summary>What <c>hvctl vm shutdown</c> and <c>vm reboot</c> ask of a guest through its shutdown integration service.</summary>
[GenerateSerializer]
[Alias("Actors.GuestShutdownKind")]
public enum GuestShutdownKind
{
    /// <summary>Power off: the guest shuts down and the VM ends Off.</summary>
    PowerOff,
    /// <summary>Restart: the guest reboots, and the partition starts the VM again once it has.</summary>
    Restart,
}
