namespace Actors.Grains;

/// <summary>What <c>hvctl vm shutdown</c> and <c>vm reboot</c> ask of a guest through its shutdown integration service.</summary>
[GenerateSerializer]
[Alias("Actors.GuestShutdownKind")]
public enum GuestShutdownKind
{
    PowerOff,
    Restart,
}
