using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Worker;

/// <summary>
/// The one place exits are dispatched, for every run loop (<see cref="Runner.GuestRunner"/> and the
/// vCPU threads of <see cref="VmWorker"/>): port I/O goes to the <see cref="IoPortBus"/>, MMIO to the
/// <see cref="MmioBus"/> (where nothing claims an address it reads all-ones and drops writes),
/// interrupt-window exits are disarmed. Everything that ends or redirects a run is returned to the
/// caller, which owns that policy. Ports and addresses nothing claims go to the machine's
/// <see cref="UnimplementedLog"/>, if it has one. Allocates nothing except in <see cref="Describe"/>,
/// which callers use only once a run ends, and for the first use of an unclaimed port or address.
/// </summary>
internal sealed class ExitDispatcher(IoPortBus ports, MmioBus mmio, UnimplementedLog? unimplemented = null)
{
    public const string HaltMessage = "HLT with no interrupt source: the guest is stopped for good";
    public const string TripleFaultMessage = "triple fault (shutdown)";

    public IoPortBus Ports { get; } = ports;

    public MmioBus Mmio { get; } = mmio;

    public ExitAction Dispatch(IVirtualProcessor processor, in VpExit exit)
    {
        switch (exit.Reason)
        {
            case VpExitReason.PortIn:
                if (!IsPortAccessSize(exit.Size))
                    return ExitAction.InternalError;
                if (!Ports.Claims(exit.Port))
                    NoteUnimplemented(processor, UnimplementedKind.PortRead, exit.Port);
                processor.CompletePortIn(Ports.Read(exit.Port, exit.Size));
                return ExitAction.Continue;
            case VpExitReason.PortOut:
                if (!IsPortAccessSize(exit.Size))
                    return ExitAction.InternalError;
                if (!Ports.Claims(exit.Port))
                    NoteUnimplemented(processor, UnimplementedKind.PortWrite, exit.Port);
                Ports.Write(exit.Port, exit.Size, (uint)exit.Data);
                return ExitAction.Continue;
            case VpExitReason.MmioRead:
                if (!IsMmioAccessSize(exit.Size))
                    return ExitAction.InternalError;
                if (!Mmio.Claims(exit.Address))
                    NoteUnimplemented(processor, UnimplementedKind.MmioRead, exit.Address);
                processor.CompleteMmioRead(Mmio.Read(exit.Address, exit.Size));
                return ExitAction.Continue;
            case VpExitReason.MmioWrite:
                if (!IsMmioAccessSize(exit.Size))
                    return ExitAction.InternalError;
                if (!Mmio.Claims(exit.Address))
                    NoteUnimplemented(processor, UnimplementedKind.MmioWrite, exit.Address);
                Mmio.Write(exit.Address, exit.Size, exit.Data);
                return ExitAction.Continue;
            case VpExitReason.Halt:
                return ExitAction.Halted;
            case VpExitReason.Shutdown:
                return ExitAction.TripleFault;
            case VpExitReason.InternalError:
                return ExitAction.InternalError;
            case VpExitReason.Hypercall:
                return ExitAction.Hypercall;
            case VpExitReason.InterruptWindow:
                processor.RequestInterruptWindow(false);
                return ExitAction.Continue;
            case VpExitReason.StopRequested:
                // Either a stop the caller's own flags explain, or a stale kick from an earlier
                // request; running again is right for both.
                return ExitAction.Continue;
            default:
                return ExitAction.Unexpected;
        }
    }

    /// <summary>A one-line description of why <paramref name="action"/> ends a run.</summary>
    public static string Describe(ExitAction action, in VpExit exit) => action switch
    {
        ExitAction.Halted => HaltMessage,
        ExitAction.TripleFault => TripleFaultMessage,
        ExitAction.InternalError when exit.Reason is VpExitReason.PortIn => $"port read of port 0x{exit.Port:x} with access size {exit.Size}",
        ExitAction.InternalError when exit.Reason is VpExitReason.PortOut => $"port write of port 0x{exit.Port:x} with access size {exit.Size}",
        ExitAction.InternalError when exit.Reason is VpExitReason.MmioRead or VpExitReason.MmioWrite => $"MMIO access at 0x{exit.Address:x} with access size {exit.Size}",
        ExitAction.InternalError => exit.Message ?? "the backend reported an internal error",
        ExitAction.Hypercall => "hypercall exit",
        _ => $"unexpected exit {exit.Reason}",
    };

    /// <summary>Counts the use; the guest's RIP (at or just past the instruction, by backend) is read only the first time.</summary>
    private void NoteUnimplemented(IVirtualProcessor processor, UnimplementedKind kind, ulong what)
    {
        if (unimplemented is { } log && !log.TryCountAgain(kind, what))
            log.Record(kind, what, processor.GetGeneralRegisters().Rip);
    }

    private static bool IsPortAccessSize(byte size) => size is 1 or 2 or 4;

    private static bool IsMmioAccessSize(byte size) => size is 1 or 2 or 4 or 8;
}
