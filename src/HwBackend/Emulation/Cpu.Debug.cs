using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// Single-stepping (Intel SDM vol. 3, 18.3.1.4): an instruction that starts with RFLAGS.TF set is
/// followed by a #DB trap with DR6.BS set, at the next instruction's address. No trap follows an
/// instruction that faulted or raised a software interrupt (the handler entry clears TF), and a
/// POPF or IRET that sets TF traps only after the instruction after it. While TF is set the CPU
/// runs one instruction at a time; with TF clear this costs one test per block.
/// </summary>
internal sealed unsafe partial class Cpu
{
    private const ulong Dr6SingleStep = 1UL << 14;
    private const int Dr6Index = 4; // Dr[] holds DR0-DR3, then DR6 and DR7

    // A single-stepped instruction finished with an exit (port or MMIO I/O): its trap comes before the next instruction.
    private bool _singleStepTrapDue;

    // Software interrupts delivered (INT n, INT3, INTO, INT1), so a single step can tell it ran one.
    private ulong _softwareInterrupts;

    private bool SingleStepping => ((FlagsOther & RflagsBits.TF) != 0) | _singleStepTrapDue;

    /// <summary>Runs one instruction under TF and raises its trap; true with <paramref name="exit"/> when the run loop must return.</summary>
    private bool RunSingleStep(out VpExit exit)
    {
        if (_singleStepTrapDue)
        {
            _singleStepTrapDue = false;
            return !DeliverSingleStepTrap(out exit);
        }

        ulong rip = Rip;
        ulong deliveries = ExceptionsDelivered + InterruptsDelivered + _softwareInterrupts;
        bool ended = RunOneInstruction(out exit);
        bool delivered = ExceptionsDelivered + InterruptsDelivered + _softwareInterrupts != deliveries;
        if (delivered)
            return ended;
        if (ended)
        {
            // An I/O exit: the instruction completed unless it will run again (a port read awaiting its data).
            _singleStepTrapDue = Rip != rip;
            return true;
        }

        return !DeliverSingleStepTrap(out exit);
    }

    /// <summary>False when delivering the #DB shut the processor down (<paramref name="shutdown"/> says so).</summary>
    private bool DeliverSingleStepTrap(out VpExit shutdown)
    {
        Dr[Dr6Index] |= Dr6SingleStep;
        return DeliverException(ExceptionVector.DB, 0, false, out shutdown);
    }
}
