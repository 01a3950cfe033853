using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Devices;
using Actors.HwBackend.Devices.Acpi;
using Actors.HwBackend.Devices.Apic;
using Actors.HwBackend.Devices.Legacy;
using Actors.HwBackend.Snapshots;
using Actors.HwBackend.Worker;

namespace Actors.HwBackend.Platform;

/// <summary>
/// The PC a guest written for QEMU's <c>pc</c> machine expects, wired together: the 8259 pair and
/// the IOAPIC both see every ISA line (IRQ 0 reaches IOAPIC pin 2, as the MADT says), one local APIC
/// per vCPU on a shared APIC bus, the 8254 PIT with port 0x61, the CMOS RTC, COM1 on IRQ 4, fw_cfg,
/// the reset ports, the 8042 keyboard controller with nothing plugged in, port 0x80,
/// isa-debug-exit, and the firmware tables in the BIOS area. It also owns the machine's clock and
/// the timer thread that turns device deadlines into interrupts.
/// Device callbacks that reach the host happen outside device locks; see <see cref="VmWorker"/>.
/// </summary>
internal sealed class PcPlatform : IDisposable
{
    /// <summary>The pin of the IOAPIC that ISA IRQ 0 (the PIT) is wired to; IRQ n is pin n otherwise.</summary>
    public const int PitIoApicPin = 2;

    // Section ids in a machine snapshot: stable names, since snapshots outlive builds.
    private const string ClockSection = "clock";
    private const string PicSection = "pic";
    private const string PitSection = "pit";
    private const string PortBSection = "port-b";
    private const string RtcSection = "rtc";
    private const string UartSection = "uart";
    private const string FwCfgSection = "fw-cfg";
    private const string ResetSection = "reset";
    private const string KeyboardControllerSection = "i8042";
    private const string PowerManagementSection = "acpi-pm";
    private const string IoApicSection = "ioapic";

    private readonly IsaLine[] _isaLines = new IsaLine[16];
    private readonly PlatformTimer _timer;
    private readonly string[] _localApicSections;
    private ITimedDevice[] _timedDevices = [];

    public PcPlatform(
        string machineName,
        PlatformClock clock,
        IVirtualMachine machine,
        ulong memoryBytes,
        IReadOnlyList<ILocalApicSink> processorSinks,
        ConsoleOutputLog consoleLog,
        Action<int> debugExit,
        Action<string> reset,
        Action powerOff,
        IReadOnlyDictionary<string, byte[]>? firmwareFiles,
        UnimplementedLog? unimplemented = null,
        bool vmBus = false)
    {
        Clock = clock;
        int processors = processorSinks.Count;
        Bus = new ApicBus();
        IoApic = new IoApic((uint)processors, Bus);
        Bus.AttachIoApic(IoApic);
        LocalApics = new LocalApic[processors];
        _localApicSections = new string[processors];
        for (int i = 0; i < processors; i++)
        {
            LocalApics[i] = new LocalApic((uint)i, bootstrap: i == 0, clock, Bus, processorSinks[i]);
            _localApicSections[i] = $"lapic/{i}";
            Bus.Attach(LocalApics[i]);
            machine.Processors[i].AttachInterruptController(LocalApics[i]);
        }

        Pic = new Pic8259Pair();
        LocalApics[0].ExternalInterrupts = Pic;
        var bootstrapSink = processorSinks[0];
        Pic.InterruptRaised = bootstrapSink.InterruptRequested;
        for (int irq = 0; irq < _isaLines.Length; irq++)
            _isaLines[irq] = new IsaLine(Pic, IoApic, irq, irq == 0 ? PitIoApicPin : irq);

        Pit = new Pit8254(clock, _isaLines[0]);
        PortB = new PortB(Pit);
        Rtc = new CmosRtc(() => DateTimeOffset.UtcNow, level => _isaLines[8].SetLevel(level));
        Uart = new Uart16550(consoleLog) { Irq = _isaLines[4] };
        FwCfg = new FwCfgDevice(memoryBytes, processors);
        if (firmwareFiles is not null)
        {
            foreach ((string name, byte[] contents) in firmwareFiles.OrderBy(f => f.Key, StringComparer.Ordinal))
                FwCfg.AddFile(name, contents);
        }
        Reset = new ResetControl(reset);
        KeyboardController = new KeyboardController(reset);
        PowerManagement = new AcpiPowerManagement(clock, powerOff);
        _timer = new PlatformTimer(clock, NextDeadline, FireDue, machineName);

        Ports = new IoPortBus();
        Ports.Register(Pic8259Pair.MasterCommandPort, 2, Pic, "pic-master");
        Ports.Register(Pic8259Pair.SlaveCommandPort, 2, Pic, "pic-slave");
        Ports.Register(Pic8259Pair.MasterElcrPort, 2, Pic, "elcr");
        Ports.Register(Pit8254.Counter0Port, Pit8254.PortCount, new Rescheduling(Pit, _timer), "pit");
        Ports.Register(PortB.Port, 1, PortB, "port-b");
        Ports.Register(PostCodePort.Port, 1, new PostCodePort(), "post-code");
        Ports.Register(CmosRtc.IndexPort, CmosRtc.PortCount, new Rescheduling(Rtc, _timer), "rtc");
        Ports.Register(Uart16550.Com1Port, Uart16550.PortCount, Uart, "com1");
        Ports.Register(FwCfgDevice.SelectorPort, FwCfgDevice.PortCount, FwCfg, "fw_cfg");
        Ports.Register(ResetControl.SystemControlPortA, 1, Reset, "port-92");
        Ports.Register(ResetControl.ResetControlPort, 1, Reset, "reset-control");
        Ports.Register(KeyboardController.DataPort, 1, KeyboardController, "i8042-data");
        Ports.Register(KeyboardController.CommandPort, 1, KeyboardController, "i8042-command");
        Ports.Register(AcpiPowerManagement.BasePort, AcpiPowerManagement.PortCount, PowerManagement, "acpi-pm");
        Ports.Register(DebugExitDevice.DefaultPort, DebugExitDevice.PortCount, new DebugExitDevice(debugExit), "isa-debug-exit");

        // The local APICs' page needs no window here: in userspace mode each vCPU's APIC sees its own
        // page before an access would exit (PcMachine.Configuration picks that mode).
        Mmio = new MmioBus();
        Mmio.Register(IoApic.DefaultBase, PcMachine.ApicWindowSize, IoApic, "ioapic");
        Exits = new ExitDispatcher(Ports, Mmio, unimplemented);

        // A machine too small to have the BIOS area (under 1 MiB) boots without tables, as it would without a BIOS.
        if (machine.Memory.IsRam(LegacyPcMemory.BiosRomStart, LegacyPcMemory.UpperMemoryStart - LegacyPcMemory.BiosRomStart))
            FirmwareTables.Write(machine.Memory, new FirmwareTableLayout(processors) { VmBus = vmBus });
        ApplyFirmwareApicSetup();
    }

    public PlatformClock Clock { get; }

    public IoPortBus Ports { get; }

    public MmioBus Mmio { get; }

    /// <summary>Where every vCPU thread of this machine sends its exits.</summary>
    public ExitDispatcher Exits { get; }

    public ApicBus Bus { get; }

    public IoApic IoApic { get; }

    public LocalApic[] LocalApics { get; }

    public Pic8259Pair Pic { get; }

    public Pit8254 Pit { get; }

    public PortB PortB { get; }

    public CmosRtc Rtc { get; }

    public Uart16550 Uart { get; }

    public FwCfgDevice FwCfg { get; }

    public ResetControl Reset { get; }

    public KeyboardController KeyboardController { get; }

    public AcpiPowerManagement PowerManagement { get; }

    public void Start() => _timer.Start();

    /// <summary>Lets the timer thread serve <paramref name="device"/>'s deadlines too; before <see cref="Start"/>.</summary>
    public void AddTimedDevice(ITimedDevice device) => _timedDevices = [.. _timedDevices, device];

    /// <summary>Stops guest time (pause, save); timers stop firing.</summary>
    public void Freeze() => Clock.Freeze();

    /// <summary>Lets guest time run again and re-plans the timers.</summary>
    public void Thaw()
    {
        Clock.Thaw();
        _timer.Reschedule();
    }

    /// <summary>A local APIC's timer was programmed.</summary>
    public void RescheduleTimers() => _timer.Reschedule();

    /// <summary>Writes the clock's and every device's section; call with every vCPU parked and the clock frozen.</summary>
    public void SaveSnapshot(SnapshotWriter writer)
    {
        writer.Add(ClockSection, new PlatformClockState(Clock.NowNanoseconds));
        writer.Add(PicSection, Pic.SaveState());
        writer.Add(PitSection, Pit.SaveState());
        writer.Add(PortBSection, PortB.SaveState());
        writer.Add(RtcSection, Rtc.SaveState());
        writer.Add(UartSection, Uart.SaveState());
        writer.Add(FwCfgSection, FwCfg.SaveState());
        writer.Add(ResetSection, Reset.SaveState());
        writer.Add(KeyboardControllerSection, KeyboardController.SaveState());
        writer.Add(PowerManagementSection, PowerManagement.SaveState());
        writer.Add(IoApicSection, IoApic.SaveState());
        for (int i = 0; i < LocalApics.Length; i++)
            writer.Add(_localApicSections[i], LocalApics[i].SaveState());
    }

    /// <summary>
    /// Decodes the platform's sections and checks that every device can take its state; changes
    /// nothing, so that a snapshot refused anywhere leaves the machine as it was.
    /// </summary>
    /// <exception cref="SnapshotException">A section is missing, unreadable or does not fit this machine.</exception>
    public PlatformSections ReadSnapshot(SnapshotReader reader)
    {
        var clock = reader.Read<PlatformClockState>(ClockSection);
        if (clock.Nanoseconds < 0)
            throw SnapshotException.InSection(ClockSection, $"guest time {clock.Nanoseconds} ns is negative");
        var rtc = reader.Read<CmosRtcState>(RtcSection);
        SnapshotException.ThrowIfProblem(RtcSection, CmosRtc.FindRestoreProblem(rtc));
        var uart = reader.Read<Uart16550State>(UartSection);
        SnapshotException.ThrowIfProblem(UartSection, Uart.FindRestoreProblem(uart));
        var fwCfg = reader.Read<FwCfgState>(FwCfgSection);
        SnapshotException.ThrowIfProblem(FwCfgSection, FwCfgDevice.FindRestoreProblem(fwCfg));
        var ioApic = reader.Read<IoApicState>(IoApicSection);
        SnapshotException.ThrowIfProblem(IoApicSection, IoApic.FindRestoreProblem(ioApic));
        var localApics = new LocalApicState[LocalApics.Length];
        for (int i = 0; i < localApics.Length; i++)
        {
            localApics[i] = reader.Read<LocalApicState>(_localApicSections[i]);
            SnapshotException.ThrowIfProblem(_localApicSections[i], LocalApics[i].FindRestoreProblem(localApics[i]));
        }
        return new PlatformSections(
            clock,
            reader.Read<Pic8259State>(PicSection),
            reader.Read<Pit8254State>(PitSection),
            reader.Read<PortBState>(PortBSection),
            rtc,
            uart,
            fwCfg,
            reader.Read<ResetControlState>(ResetSection),
            reader.Read<KeyboardControllerState>(KeyboardControllerSection),
            reader.Read<AcpiPowerManagementState>(PowerManagementSection),
            ioApic,
            localApics);
    }

    /// <summary>Applies what <see cref="ReadSnapshot"/> checked: the clock first, since the timers' state is relative to it.</summary>
    public void Restore(PlatformSections sections)
    {
        Clock.Set(sections.Clock.Nanoseconds);
        Pit.RestoreState(sections.Pit);
        PortB.RestoreState(sections.PortB);
        Rtc.RestoreState(sections.Rtc);
        Uart.RestoreState(sections.Uart);
        FwCfg.RestoreState(sections.FwCfg);
        Reset.RestoreState(sections.Reset);
        KeyboardController.RestoreState(sections.KeyboardController);
        PowerManagement.RestoreState(sections.PowerManagement);
        IoApic.RestoreState(sections.IoApic);
        for (int i = 0; i < LocalApics.Length; i++)
            LocalApics[i].RestoreState(sections.LocalApics[i]);
        Pic.RestoreState(sections.Pic);
        _timer.Reschedule();
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>
    /// What SeaBIOS leaves for a <c>-kernel</c> guest on QEMU: the bootstrap APIC software-enabled
    /// in virtual-wire mode (LINT0 ExtINT from the 8259, LINT1 NMI), so the 8259 reaches the BSP.
    /// </summary>
    private void ApplyFirmwareApicSetup()
    {
        var bsp = LocalApics[0];
        bsp.WriteMmio(LocalApic.SvrOffset, 4, 0x1FF);
        bsp.WriteMmio(LocalApic.LvtLint0Offset, 4, 0x700);
        bsp.WriteMmio(LocalApic.LvtLint1Offset, 4, 0x400);
    }

    private long? NextDeadline(long now)
    {
        long? next = Pit.NextEventNanoseconds;
        foreach (var apic in LocalApics)
            next = Earliest(next, apic.NextTimerEventNanoseconds);
        if (Rtc.NextEventDelay() is TimeSpan delay)
            next = Earliest(next, now + (long)delay.TotalNanoseconds);
        foreach (ITimedDevice device in _timedDevices)
            next = Earliest(next, device.NextEventNanoseconds);
        return next;
    }

    private void FireDue(long now)
    {
        // The PIT and RTC report their *next* event, which is already the following one once
        // the clock has passed the edge, so they are brought up to date unconditionally: both
        // calls are cheap and harmless when nothing is due.
        Pit.Update();
        Rtc.Poll();
        foreach (var apic in LocalApics)
        {
            if (apic.NextTimerEventNanoseconds <= now)
                apic.UpdateTimer();
        }
        foreach (ITimedDevice device in _timedDevices)
        {
            if (device.NextEventNanoseconds <= now)
                device.FireDue(now);
        }
    }

    private static long? Earliest(long? a, long? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    /// <summary>
    /// One ISA interrupt line, wired to both interrupt controllers as on a PC chipset; the device
    /// behind it hears acknowledgements and unmasks from whichever of them the guest uses.
    /// </summary>
    private sealed class IsaLine(Pic8259Pair pic, IoApic ioApic, int irq, int ioApicPin) : IAcknowledgingInterruptLine
    {
        public void SetLevel(bool asserted)
        {
            pic.SetIrq(irq, asserted);
            ioApic.SetIrq(ioApicPin, asserted);
        }

        public void SetAcknowledgeListener(IInterruptAcknowledgeListener? listener)
        {
            pic.SetAcknowledgeListener(irq, listener);
            ioApic.SetAcknowledgeListener(ioApicPin, listener);
        }
    }

    /// <summary>A timer device on the port bus: a guest write may move its next deadline.</summary>
    private sealed class Rescheduling(IPortDevice device, PlatformTimer timer) : IPortDevice
    {
        public uint Read(ushort port, int size) => device.Read(port, size);

        public void Write(ushort port, int size, uint value)
        {
            device.Write(port, size, value);
            timer.Reschedule();
        }
    }
}
