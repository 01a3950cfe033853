using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// The processor's side of its local APIC, when one is attached: the APIC base MSR, the xAPIC
/// register page and the x2APIC MSRs go straight to the controller on this thread (no exit, so a
/// guest's EOI or timer read costs a call, not an unwind), CR8 is the TPR's class, and external
/// interrupts come from the controller's acknowledge cycle.
/// </summary>
internal sealed unsafe partial class Cpu
{
    public const uint MsrTscDeadline = 0x6E0;

    private ILocalInterruptController? _apic;

    public ILocalInterruptController? Apic => _apic;

    public void AttachInterruptController(ILocalInterruptController? controller)
    {
        _apic = controller;
        NotifyInterruptController();
    }

    /// <summary>The controller may have an interrupt to present: look at the next instruction boundary. Any thread.</summary>
    public void NotifyInterruptController() => Interlocked.Or(ref Events, EventInterrupt);

    /// <summary>True when <paramref name="pa"/> falls in the attached APIC's register page.</summary>
    private bool IsApicPage(ulong pa) => _apic is { } apic && (pa & ~0xFFFUL) == apic.MmioBase;

    private bool TryReadApicMsr(uint index, out ulong value)
    {
        var apic = _apic!;
        if (index == MsrTscDeadline)
        {
            value = apic.TscDeadline;
            return true;
        }
        return apic.TryReadMsr(index, out value);
    }

    private bool TryWriteApicMsr(uint index, ulong value)
    {
        var apic = _apic!;
        if (index == MsrTscDeadline)
        {
            // The deadline is in this vCPU's TSC; the timer runs on the platform clock (TSC = clock + offset at 1 GHz).
            long clock = value == 0 ? 0 : Math.Max(1, (long)Math.Min(value, long.MaxValue) - TscOffset);
            apic.WriteTscDeadline(value, clock);
            return true;
        }
        return apic.TryWriteMsr(index, value);
    }

    private int ReadTaskPriorityClass() => _apic is { } apic ? apic.TaskPriorityClass : (int)Cr8;

    private void WriteTaskPriorityClass(int value)
    {
        Cr8 = (ulong)value;
        if (_apic is { } apic)
        {
            apic.TaskPriorityClass = value;
            // Lowering the priority can unmask a pending interrupt.
            NotifyInterruptController();
        }
    }
}
