namespace Actors.HwBackend.Boot;

/// <summary>
/// What the firmware tables describe: the processors (APIC IDs 0 to <see cref="ProcessorCount"/>
/// − 1) and where the interrupt controllers sit. The defaults are the PC platform's addresses,
/// which <see cref="Platform.PcMachine.MemoryLayout"/> maps.
/// </summary>
/// <param name="ProcessorCount">Number of processors, 1 to 255 (xAPIC IDs are 8 bits and 0xFF means "all").</param>
public sealed record FirmwareTableLayout(int ProcessorCount)
{
    public const ulong DefaultIoApicAddress = 0xFEC0_0000;
    public const ulong DefaultLocalApicAddress = 0xFEE0_0000;

    /// <summary>
    /// The I/O APIC's ID. By default the first ID after the processors', so no processor shares
    /// it: on the MP specification's APIC bus all APICs have distinct IDs. Set it explicitly
    /// when deriving a layout with a different <see cref="ProcessorCount"/>: <c>with</c> keeps it.
    /// </summary>
    public uint IoApicId { get; init; } = (uint)ProcessorCount;

    public ulong IoApicAddress { get; init; } = DefaultIoApicAddress;

    public ulong LocalApicAddress { get; init; } = DefaultLocalApicAddress;

    /// <summary>Whether the DSDT has the VMBus device (an enlightened partition's), through which the guest finds VMBus.</summary>
    public bool VmBus { get; init; }
}
