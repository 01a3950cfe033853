using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Devices.Apic;
using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Worker;

/// <summary>
/// One vCPU of a <see cref="VmWorker"/> and the dedicated OS thread that runs it.
/// Exits to platform devices are handled on that thread without allocating; everything that
/// parks or ends the thread goes through the host, which owns the state machine. The fields
/// marked "guarded" belong to the host's gate. It is also its local APIC's owner: interrupts
/// and INIT/SIPI arriving from other threads come in through <see cref="ILocalApicSink"/>.
/// </summary>
internal sealed class VirtualProcessorThread : ILocalApicSink
{

    private static readonly string[] ReasonNames = BuildReasonNames();

    private readonly VmWorker _host;
    // Null only while the platform is being built (its firmware setup already writes APIC registers).
    private PcPlatform? _platform;
    private LocalApic? _apic;

    // Set by every interrupt request, taken by the thread before it parks after HLT.
    private int _wakeRequested;

    // One slot per VpExitReason; written only by this vCPU's thread, read by snapshots.
    private readonly long[] _exits = new long[ReasonNames.Length];

    // Non-zero when the thread must consult the host before entering the guest again. Checked
    // once per exit without a lock, so the common case (nothing asked of this vCPU) costs one read.
    private int _attention;
    private Thread? _thread;

    public VirtualProcessorThread(VmWorker host, IVirtualProcessor processor, int index)
    {
        _host = host;
        Processor = processor;
        Index = index;
    }

    /// <summary>Connects the platform and this vCPU's local APIC, before the thread starts.</summary>
    public void Attach(PcPlatform platform, LocalApic apic)
    {
        _platform = platform;
        _apic = apic;
    }

    public int Index { get; }

    public IVirtualProcessor Processor { get; }

    public Thread? Thread => _thread;

    /// <summary>Guarded. Paused by <see cref="VmWorker.PauseProcessor"/>.</summary>
    public bool ProcessorPaused { get; set; }

    /// <summary>Guarded. An application processor that has not been started (it would wait for INIT-SIPI).</summary>
    public bool WaitingForStartup { get; set; }

    /// <summary>
    /// Guarded. The vCPU executed HLT and waits for an interrupt. The VM keeps running, as on hardware
    /// and under QEMU; until the platform has interrupt sources nothing wakes it but stop.
    /// </summary>
    public bool WaitingForInterrupt
    {
        get => _waitingForInterrupt;
        set => Volatile.Write(ref _waitingForInterrupt, value);
    }

    private bool _waitingForInterrupt;

    /// <summary>Guarded. The local APIC holds an INIT or a start-up IPI for this thread to take.</summary>
    public bool StartupEventPending { get; set; }

    /// <summary>Guarded. Callers that need the vCPU parked to read its registers.</summary>
    public int SnapshotHolds { get; set; }

    /// <summary>Guarded. The thread waits in the host's gate and is not in the guest.</summary>
    public bool Parked { get; set; }

    /// <summary>Guarded. The thread has left its run loop for good.</summary>
    public bool Exited { get; set; }

    /// <summary>Makes the thread leave the guest and consult the host. Call with the host's gate held.</summary>
    public void Signal()
    {
        Volatile.Write(ref _attention, 1);
        // Sticky in every backend: a stop requested before Run returns at once, so there is no
        // window in which the thread can miss it.
        Processor.RequestStop();
    }

    /// <summary>Call with the host's gate held, once the host found nothing for the thread to wait for.</summary>
    public void ClearAttention() => Volatile.Write(ref _attention, 0);

    public void Start(string machineName)
    {
        _thread = new Thread(ThreadMain)
        {
            IsBackground = true,
            Name = $"vcpu {machineName}/{Index}",
        };
        _thread.Start();
    }

    /// <summary>True (once) when an interrupt was requested since the last call.</summary>
    public bool TakeWakeRequest() => Interlocked.Exchange(ref _wakeRequested, 0) != 0;

    void ILocalApicSink.InterruptRequested()
    {
        Processor.NotifyInterruptController();
        WakeForInterrupt();
    }

    bool ILocalApicSink.NmiRequested()
    {
        bool latched = Processor.InjectNmi();
        WakeForInterrupt();
        return latched;
    }

    /// <summary>Makes a halted vCPU run again and the thread look at the APIC's INIT and start-up events.</summary>
    private void WakeForInterrupt()
    {
        Interlocked.Exchange(ref _wakeRequested, 1);
        // Read after the flag is published: the thread sets WaitingForInterrupt before it takes
        // the flag, so one side or the other sees the request.
        if (Volatile.Read(ref _waitingForInterrupt))
            _host.WakeFromHalt(this);
        if (_apic is { HasStartupEvent: true })
            _host.PostStartupEvent(this);
    }

    void ILocalApicSink.TimerProgrammed() => _platform?.RescheduleTimers();

    public IReadOnlyDictionary<string, long> GetExitCounts()
    {
        var counts = new Dictionary<string, long>(ReasonNames.Length);
        for (int i = 0; i < ReasonNames.Length; i++)
            counts[ReasonNames[i]] = Volatile.Read(ref _exits[i]);
        return counts;
    }

    private void ThreadMain()
    {
        try
        {
            RunLoop();
        }
        catch (Exception ex)
        {
            // A backend or device bug must stop the VM visibly, not kill the process.
            _host.EndRun($"internal error: vCPU {Index}: {ex.GetType().Name}: {ex.Message}", exitStatus: null, failed: true);
        }
        finally
        {
            _host.OnProcessorThreadExited(this);
        }
    }

    private void RunLoop()
    {
        var processor = Processor;
        var dispatcher = _platform!.Exits;
        var exits = _exits;
        while (true)
        {
            if (Volatile.Read(ref _attention) != 0)
            {
                var directive = _host.WaitUntilRunnable(this);
                if (directive == ProcessorDirective.Leave)
                    return;
                if (directive == ProcessorDirective.HandleStartupEvent)
                {
                    HandleStartupEvent();
                    continue;
                }
            }
            // Requests from before this entry are the processor's to see now; only one that
            // arrives after it decides to halt must keep the thread from parking.
            Volatile.Write(ref _wakeRequested, 0);
            var exit = processor.Run();
            int reason = (int)exit.Reason;
            if ((uint)reason < (uint)exits.Length)
                Volatile.Write(ref exits[reason], exits[reason] + 1);
            var action = dispatcher.Dispatch(processor, exit);
            switch (action)
            {
                case ExitAction.Continue:
                    break;
                case ExitAction.Halted:
                    _host.WaitForInterrupt(this);
                    break;
                case ExitAction.Hypercall:
                    if (_host.Hypercalls is { } hypercalls)
                    {
                        hypercalls.Dispatch(processor, Index);
                    }
                    else
                    {
                        // No hypervisor interface, yet a VMCALL at CPL 0: the status goes in RAX (TLFS).
                        var registers = processor.GetGeneralRegisters();
                        registers.Gprs[0] = HypercallInput.Result(HvStatus.InvalidHypercallCode);
                        processor.SetGeneralRegisters(registers);
                    }
                    break;
                default:
                    // The host sets our attention flag, so the next iteration leaves the loop.
                    _host.EndRun(action, exit);
                    break;
            }
        }
    }

    /// <summary>
    /// INIT puts an application processor back in wait-for-SIPI (the bootstrap processor would run
    /// the firmware again: a reset); a start-up IPI starts it in real mode at vector × 4 KiB.
    /// </summary>
    private void HandleStartupEvent()
    {
        var apic = _apic!;
        if (apic.TakeInit())
        {
            if (Index == 0)
            {
                _host.RequestReset("INIT to the bootstrap processor");
                return;
            }
            SetStateKeepingTsc(ProcessorStartupState.AfterInit(Processor.GetState()));
            _host.SetWaitingForStartup(this, true);
        }
        if (apic.TakeStartup(out byte vector))
        {
            SetStateKeepingTsc(ProcessorStartupState.AfterStartupIpi(Processor.GetState(), vector));
            _host.SetWaitingForStartup(this, false);
        }
    }

    /// <summary>
    /// INIT and SIPI leave the TSC running in step with the other vCPUs'. The state read a moment
    /// ago holds the TSC's value as it was then, and setting that back would put this vCPU's TSC
    /// behind by however long it took (tens of microseconds on a busy host, which Linux's TSC sync
    /// check on 4 vCPUs measured as a warp and marked the TSC unstable for); the offset is exact.
    /// </summary>
    private void SetStateKeepingTsc(VpState state)
    {
        long offset = Processor.TscOffset;
        Processor.SetState(state);
        Processor.TscOffset = offset;
    }

    private static string[] BuildReasonNames()
    {
        var values = Enum.GetValues<VpExitReason>();
        var names = new string[values.Length];
        foreach (var value in values)
        {
            // The snapshot indexes by the enum's value, so the values must be 0..n-1.
            if ((int)value < 0 || (int)value >= names.Length)
                throw new InvalidOperationException($"VpExitReason.{value} is not in 0..{names.Length - 1}");
            names[(int)value] = KebabCase(value.ToString());
        }
        return names;
    }

    private static string KebabCase(string pascal)
    {
        var builder = new System.Text.StringBuilder(pascal.Length + 4);
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (char.IsUpper(c))
            {
                if (i > 0)
                    builder.Append('-');
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }
}
