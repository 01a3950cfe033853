namespace Actors.HwBackend.Devices;

/// <summary>
/// Periodic timer ticks that fell due while the guest had not yet taken the previous one, delivered
/// late, one per acknowledgement, as QEMU's lost-tick policy "delay" and KVM's PIT reinject mode do.
/// A guest's tick count then keeps up with its TSC (which follows the host's clock) even when the
/// host deschedules the vCPU or timer thread for several periods: the ticks arrive late, never
/// merged into one latched request. Not thread-safe: the owning device's lock covers it.
/// </summary>
internal struct TickBacklog
{
    /// <summary>
    /// The most ticks held. One second of ticks (<see cref="CapFor"/>) covers any descheduling a
    /// busy host inflicts (scheduler slices are milliseconds); past that the guest has lost time
    /// no replay hides, and replaying more would keep it in its timer handler long after. At most
    /// 1000, a second at HZ=1000 (the fastest usual guest tick), so a guest that programs a
    /// megahertz timer cannot queue a million interrupts.
    /// </summary>
    public const int MaxTicks = 1000;

    /// <summary>Ticks due and not yet raised.</summary>
    public int Pending { get; private set; }

    /// <summary>A raised tick the controller has not reported as acknowledged.</summary>
    public bool AwaitingAcknowledge { get; private set; }

    /// <summary>The cap for a timer with this period: one second of ticks, 1 to <see cref="MaxTicks"/>.</summary>
    public static int CapFor(long periodNanoseconds) =>
        periodNanoseconds <= 0 ? MaxTicks : (int)Math.Clamp(1_000_000_000 / periodNanoseconds, 1, MaxTicks);

    /// <summary><paramref name="ticks"/> more periods ended; true when the device should raise its interrupt now.</summary>
    public bool Due(long ticks, int cap)
    {
        if (ticks <= 0)
            return false;
        if (!AwaitingAcknowledge)
        {
            AwaitingAcknowledge = true;
            Pending = (int)Math.Min(cap, Pending + ticks - 1);
            return true;
        }
        long pending = Pending + ticks;
        if (pending <= cap)
        {
            Pending = (int)pending;
            return false;
        }
        // Full: the rest is lost, and the tick is raised as it would be without a backlog. Should
        // the acknowledgement itself have been lost (a vector reprogrammed under a pending
        // request), this keeps the timer from falling silent.
        Pending = cap;
        return true;
    }

    /// <summary>The controller took the raised tick; true when the device should raise the next one now.</summary>
    public bool Acknowledged()
    {
        if (!AwaitingAcknowledge)
            return false;
        if (Pending > 0)
        {
            Pending--;
            return true;
        }
        AwaitingAcknowledge = false;
        return false;
    }

    /// <summary>The guest reprogrammed or stopped the timer, or reopened its input: nothing is owed.</summary>
    public void Clear()
    {
        Pending = 0;
        AwaitingAcknowledge = false;
    }

    public void Restore(int pending, bool awaitingAcknowledge)
    {
        Pending = Math.Clamp(pending, 0, MaxTicks);
        AwaitingAcknowledge = awaitingAcknowledge;
    }
}
