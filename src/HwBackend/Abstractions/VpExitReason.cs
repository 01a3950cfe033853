namespace Actors.HwBackend.Abstractions;

public enum VpExitReason
{
    /// <summary>IN/INS: the caller supplies the value with <c>CompletePortIn</c> before running again.</summary>
    PortIn,
    /// <summary>OUT/OUTS: <see cref="VpExit.Data"/> holds the value written.</summary>
    PortOut,
    /// <summary>A read of an MMIO region: the caller supplies the value with <c>CompleteMmioRead</c>.</summary>
    MmioRead,
    /// <summary>A write to an MMIO region: <see cref="VpExit.Data"/> holds the value written.</summary>
    MmioWrite,
    /// <summary>HLT with interrupts disabled or no interrupt pending.</summary>
    Halt,
    /// <summary>VMCALL/VMMCALL at CPL 0: the hypercall's inputs are in the registers.</summary>
    Hypercall,
    /// <summary>Triple fault: the machine resets or stops.</summary>
    Shutdown,
    /// <summary>The host asked the processor to stop (<c>RequestStop</c>).</summary>
    StopRequested,
    /// <summary>The guest can take an external interrupt now (after <c>RequestInterruptWindow</c>).</summary>
    InterruptWindow,
    /// <summary>The backend met something it cannot continue from; <see cref="VpExit.Message"/> says what.</summary>
    InternalError,
}
