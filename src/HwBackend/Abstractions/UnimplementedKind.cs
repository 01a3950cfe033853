namespace Actors.HwBackend.Abstractions;

/// <summary>What a guest used that this hypervisor does not implement.</summary>
public enum UnimplementedKind : byte
{
    /// <summary>A read of an I/O port no device claims (it floats to all-ones).</summary>
    PortRead,

    /// <summary>A write to an I/O port no device claims (it is dropped).</summary>
    PortWrite,

    /// <summary>A read of a physical address that is neither RAM nor a device (all-ones).</summary>
    MmioRead,

    /// <summary>A write to a physical address that is neither RAM nor a device (dropped).</summary>
    MmioWrite,

    /// <summary>RDMSR of an MSR this CPU does not have (#GP, as on hardware).</summary>
    MsrRead,

    /// <summary>WRMSR to an MSR this CPU does not have (#GP, as on hardware).</summary>
    MsrWrite,

    /// <summary>An instruction the CPU decodes but does not implement (#UD, as without the feature).</summary>
    Instruction,
}
