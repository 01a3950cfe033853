namespace Actors.HwBackend.Devices.Apic;

/// <summary>The guest-visible state of an <see cref="IoApic"/>, for save/restore and live migration.</summary>
public sealed record IoApicState
{
    /// <summary>The ID register (bits 27:24 hold the ID).</summary>
    public uint Id { get; init; }

    /// <summary>IOREGSEL: the register IOWIN accesses.</summary>
    public byte RegisterSelect { get; init; }

    /// <summary>The 24 redirection entries, including their read-only remote IRR bits.</summary>
    public ulong[] Redirection { get; init; } = [];

    /// <summary>Electrical levels of the 24 input pins, bit n for pin n.</summary>
    public uint PinLevels { get; init; }
}
