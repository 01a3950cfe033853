using System.Runtime.InteropServices;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Kvm.Interop;

namespace Actors.HwBackend.Kvm;

/// <summary>
/// One vCPU on KVM. <see cref="Run"/> enters the guest with KVM_RUN and turns KVM's exits into the backend
/// contract's: port I/O (a string instruction's items one by one), MMIO, HLT, shutdown. What the software CPU
/// handles without an exit is handled here too, inside <see cref="Run"/>: the local APIC's page and MSRs go to
/// the attached controller, interrupts it presents are injected when the guest can take them, an enlightened
/// partition's synthetic MSRs and hypercalls (the hypercall page's OUT, <see cref="HypercallConvention"/>) go to its
/// <see cref="ISyntheticRegisters"/>, and MSRs nobody implements raise #GP and are reported once. State moves through the <c>KVM_GET/SET_*</c> calls in
/// <c>KvmProcessor.State.cs</c>.
/// </summary>
public sealed unsafe partial class KvmProcessor : IVirtualProcessor, IDisposable
{
    private readonly KvmMachine _machine;
    private readonly KvmBackend _backend;
    private readonly nuint _runSize;
    private int _fd;
    private KvmRun* _run;

    // Kicks come from other threads (timers, devices, other vCPUs) until the machine is gone; this keeps one from
    // writing into the kvm_run page while Dispose unmaps it.
    private readonly Lock _runPageLock = new();

    private ILocalInterruptController? _apic;
    private ISyntheticRegisters? _synthetic;
    private IUnimplementedSink? _unimplemented;

    // Set once by the vCPU's own thread, so that other threads can kick it out of KVM_RUN.
    private nuint _thread;
    private int _inGuest;
    private int _stopRequested;
    private int _nmiRequested;
    private int _pendingExternal = -1;
    private bool _windowRequested;
    private bool _halted;
    private long _exitsHandled;

    // A string instruction's items still to hand out (INS/OUTS with a REP prefix exit once for all of them).
    private byte* _ioItem;
    private int _ioItemsLeft;
    private ushort _ioPort;
    private byte _ioSize;
    private bool _ioIn;

    internal KvmProcessor(KvmMachine machine, KvmBackend backend, int vmFd, int index)
    {
        _machine = machine;
        _backend = backend;
        Index = index;
        _fd = KvmDevice.Checked(LibC.Ioctl(vmFd, KvmIoctls.CreateVcpu, index), $"KVM_CREATE_VCPU({index})");
        _runSize = (nuint)backend.VcpuMmapSize;
        void* run = LibC.Mmap(null, _runSize, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, _fd, 0);
        if (run == (void*)-1)
            throw new KvmException($"mmap of vCPU {index}'s kvm_run: {LibC.Describe(Marshal.GetLastPInvokeError())}");
        _run = (KvmRun*)run;
        SetCpuid();
        KvmKick.EnsureInstalled();
    }

    public int Index { get; }

    /// <summary>KVM does not count guest instructions; the exits handled stand in where a count of work is needed.</summary>
    public ulong InstructionsRetired => (ulong)Volatile.Read(ref _exitsHandled);

    public ulong EventsDelivered => 0;

    public ILocalInterruptController? InterruptController => _apic;

    public VpExit Run()
    {
        if (_thread == 0)
            _thread = LibC.PthreadSelf();
        if (_ioItemsLeft > 0)
            return NextIoItem();

        KvmRun* run = _run;
        while (true)
        {
            if (Interlocked.Exchange(ref _stopRequested, 0) != 0)
                return new VpExit(VpExitReason.StopRequested);
            if (_halted)
            {
                if (!CanWake())
                    return new VpExit(VpExitReason.Halt);
                _halted = false;
            }

            PrepareInjection(run);
            if (_apic is { } apic)
                run->Cr8 = (ulong)apic.TaskPriorityClass;
            Volatile.Write(ref _inGuest, 1);
            int result = LibC.Ioctl(_fd, KvmIoctls.Run, 0);
            int error = result < 0 ? Marshal.GetLastPInvokeError() : 0;
            Volatile.Write(ref _inGuest, 0);
            if (_apic is { } after)
                after.TaskPriorityClass = (int)(run->Cr8 & 0xF);
            if (result < 0)
            {
                // A kick (RequestStop, an interrupt for the guest) or a signal for the process: look again.
                run->ImmediateExit = 0;
                if (error is LibC.EINTR or LibC.EAGAIN)
                    continue;
                return InternalError($"KVM_RUN on vCPU {Index}: {LibC.Describe(error)}");
            }

            _exitsHandled++;
            switch ((KvmExitReason)run->ExitReason)
            {
                case KvmExitReason.Io:
                    if (TryHypercall(ExitDetails<KvmRunIo>()))
                        continue;
                    StartIo(ExitDetails<KvmRunIo>());
                    return NextIoItem();
                case KvmExitReason.Mmio:
                    if (Mmio(ExitDetails<KvmRunMmio>()) is { } mmioExit)
                        return mmioExit;
                    continue;
                case KvmExitReason.Hlt:
                    _halted = true;
                    continue;
                case KvmExitReason.IrqWindowOpen:
                    if (_windowRequested)
                        return new VpExit(VpExitReason.InterruptWindow);
                    continue;
                case KvmExitReason.Intr:
                    continue;
                case KvmExitReason.X86Rdmsr:
                case KvmExitReason.X86Wrmsr:
                    Msr(ExitDetails<KvmRunMsr>(), run->ExitReason == (uint)KvmExitReason.X86Rdmsr);
                    continue;
                case KvmExitReason.Shutdown:
                case KvmExitReason.SystemEvent:
                    return new VpExit(VpExitReason.Shutdown);
                case KvmExitReason.FailEntry:
                    return InternalError($"KVM could not enter vCPU {Index}: hardware entry failure 0x{*ExitDetails<ulong>():x}");
                case KvmExitReason.InternalError:
                    return InternalError($"KVM internal error on vCPU {Index}: suberror {ExitDetails<KvmRunInternal>()->Suberror}");
                default:
                    return InternalError($"unexpected KVM exit {run->ExitReason} on vCPU {Index}");
            }
        }
    }

    public void CompletePortIn(ulong value)
    {
        if (!_ioIn || _ioItem == null)
            throw new InvalidOperationException("no port read is waiting for its value");
        switch (_ioSize)
        {
            case 1: *_ioItem = (byte)value; break;
            case 2: *(ushort*)_ioItem = (ushort)value; break;
            default: *(uint*)_ioItem = (uint)value; break;
        }

        _ioItem += _ioSize;
    }

    public void CompleteMmioRead(ulong value)
    {
        KvmRunMmio* mmio = ExitDetails<KvmRunMmio>();
        new ReadOnlySpan<byte>(&value, (int)Math.Min(mmio->Len, 8u)).CopyTo(new Span<byte>(mmio->Data, 8));
    }

    public void RequestStop()
    {
        Volatile.Write(ref _stopRequested, 1);
        Kick();
    }

    public void NotifyInterruptController() => Kick();

    public void InjectExternalInterrupt(byte vector)
    {
        Volatile.Write(ref _pendingExternal, vector);
        Kick();
    }

    public bool InjectNmi()
    {
        bool latched = Interlocked.Exchange(ref _nmiRequested, 1) == 0;
        Kick();
        return latched;
    }

    public void RequestInterruptWindow(bool enable) => _windowRequested = enable;

    public void AttachInterruptController(ILocalInterruptController controller)
    {
        ArgumentNullException.ThrowIfNull(controller);
        _apic = controller;
    }

    /// <summary>
    /// Makes the vCPU an enlightened partition's: its CPUID presents the Hyper-V leaves, and its synthetic MSRs (which
    /// the MSR filter sends here) and hypercalls go to <paramref name="registers"/>. Before the vCPU first runs.
    /// </summary>
    public void AttachSyntheticRegisters(ISyntheticRegisters registers)
    {
        ArgumentNullException.ThrowIfNull(registers);
        SetCpuid(registers);
        _synthetic = registers;
    }

    public void AttachUnimplementedSink(IUnimplementedSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _unimplemented = sink;
    }

    /// <summary>Makes a running KVM_RUN return and the next one return at once, so the loop looks at its flags again.</summary>
    private void Kick()
    {
        lock (_runPageLock)
        {
            if (_run == null)
                return;
            // immediate_exit covers the window between the loop's checks and its next KVM_RUN; the signal
            // covers a vCPU inside the guest. The loop clears immediate_exit before it looks again.
            _run->ImmediateExit = 1;
            if (Volatile.Read(ref _inGuest) != 0 && _thread != 0)
                KvmKick.Kick(_thread);
        }
    }

    /// <summary>Whether a halted vCPU has something to wake for: an NMI, or an interrupt it can take.</summary>
    private bool CanWake() =>
        Volatile.Read(ref _nmiRequested) != 0
        || (_run->IfFlag != 0 && (Volatile.Read(ref _pendingExternal) >= 0 || _apic?.HasDeliverableInterrupt == true));

    /// <summary>Before entering: hands KVM an NMI or an interrupt the guest can take now, or asks for an exit when it can.</summary>
    private void PrepareInjection(KvmRun* run)
    {
        if (Interlocked.Exchange(ref _nmiRequested, 0) != 0)
            KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.Nmi, 0), "KVM_NMI");

        bool wanted = Volatile.Read(ref _pendingExternal) >= 0 || _apic?.HasDeliverableInterrupt == true;
        if (wanted && run->ReadyForInterruptInjection != 0 && run->IfFlag != 0)
        {
            int vector = Interlocked.Exchange(ref _pendingExternal, -1);
            if (vector < 0 && _apic is { } apic)
                vector = apic.AcknowledgeInterrupt();
            if (vector >= 0)
            {
                uint irq = (uint)vector;
                KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.Interrupt, &irq), "KVM_INTERRUPT");
            }

            wanted = false;
        }

        run->RequestInterruptWindow = (byte)(wanted || _windowRequested ? 1 : 0);
    }

    private void StartIo(KvmRunIo* io)
    {
        _ioItem = (byte*)_run + io->DataOffset;
        _ioItemsLeft = (int)io->Count;
        _ioPort = io->Port;
        _ioSize = io->Size;
        _ioIn = io->Direction == KvmRunIo.In;
    }

    private VpExit NextIoItem()
    {
        _ioItemsLeft--;
        if (_ioIn)
            return new VpExit(VpExitReason.PortIn, _ioPort, _ioSize);
        ulong value = _ioSize switch { 1 => *_ioItem, 2 => *(ushort*)_ioItem, _ => *(uint*)_ioItem };
        _ioItem += _ioSize;
        return new VpExit(VpExitReason.PortOut, _ioPort, _ioSize, value);
    }

    /// <summary>
    /// The hypercall page's OUT, carried out here without leaving <see cref="Run"/>, as the software CPU does: a one-byte
    /// write to the hypercall port at CPL 0 in protected mode, once the guest has enabled hypercalls. KVM moves RIP past
    /// the OUT when it next enters the guest (RIP is where the exit left it, so it completes the instruction). Anything
    /// else is an ordinary port write, for the platform.
    /// </summary>
    private bool TryHypercall(KvmRunIo* io)
    {
        if (io->Port != HypercallConvention.Port || io->Direction != KvmRunIo.Out || io->Size != 1 || io->Count != 1
            || _synthetic is not { HypercallsEnabled: true } synthetic)
            return false;
        GeneralRegisters registers = GetGeneralRegisters();
        SystemRegisters system = GetSystemRegisters();
        if (!HypercallConvention.MayCall(system, registers.Rflags))
            return false;
        bool is64BitCode = HypercallConvention.Is64BitCode(system);
        (ulong input, ulong inputParameter, ulong outputParameter) = HypercallConvention.Arguments(registers.Gprs, is64BitCode);
        HypercallConvention.SetResult(registers.Gprs, is64BitCode, synthetic.Hypercall(input, inputParameter, outputParameter));
        SetGeneralRegisters(registers);
        return true;
    }

    /// <summary>The APIC's page stays here, as on the software CPU; anything else is the platform's exit.</summary>
    private VpExit? Mmio(KvmRunMmio* mmio)
    {
        ulong address = mmio->PhysAddr;
        byte size = (byte)mmio->Len;
        ulong data = 0;
        new ReadOnlySpan<byte>(mmio->Data, size).CopyTo(new Span<byte>(&data, 8));
        if (_apic is { } apic && apic.MmioBase != ulong.MaxValue && address - apic.MmioBase < 0x1000)
        {
            if (mmio->IsWrite != 0)
                apic.WriteMmio((uint)(address - apic.MmioBase), size, data);
            else
                CompleteMmioRead(apic.ReadMmio((uint)(address - apic.MmioBase), size));
            return null;
        }

        return mmio->IsWrite != 0
            ? new VpExit(VpExitReason.MmioWrite, address, size, data)
            : new VpExit(VpExitReason.MmioRead, address, size);
    }

    /// <summary>An MSR KVM left to us: the APIC's, a synthetic one, or one nobody implements (#GP, reported).</summary>
    private void Msr(KvmRunMsr* msr, bool read)
    {
        uint index = msr->Index;
        ulong value = 0;
        bool done = read ? TryReadRoutedMsr(index, out value) : TryWriteRoutedMsr(index, msr->Data);
        // A value refused for a synthetic MSR that exists is the guest's mistake (#GP), not something missing here.
        bool known = done || (!read && _synthetic is { } s && s.OwnsMsr(index) && s.TryReadMsr(index, out _));
        if (!known && _unimplemented is { } sink)
            sink.Record(read ? UnimplementedKind.MsrRead : UnimplementedKind.MsrWrite, index, GetGeneralRegisters().Rip);
        if (read && done)
            msr->Data = value;
        msr->Error = (byte)(done ? 0 : 1);
    }

    /// <summary>The exit's details in the kvm_run page (the union after its fixed part), as <typeparamref name="T"/>.</summary>
    private T* ExitDetails<T>() where T : unmanaged => (T*)((byte*)_run + KvmRun.ExitDetailsOffset);

    /// <summary>MSRs that are the local APIC's rather than KVM's: its base, the x2APIC registers, the TSC deadline.</summary>
    private bool IsRouted(uint index) => _apic is { } apic && (index == MsrRouting.ApicBase || apic.OwnsMsr(index));

    private bool TryReadRoutedMsr(uint index, out ulong value)
    {
        value = 0;
        if (_synthetic is { } synthetic && synthetic.OwnsMsr(index))
            return synthetic.TryReadMsr(index, out value);
        if (_apic is not { } apic)
            return false;
        switch (index)
        {
            case MsrRouting.ApicBase:
                value = apic.ApicBaseMsr;
                return true;
            case MsrRouting.TscDeadline:
                value = apic.TscDeadline;
                return true;
            default:
                return apic.OwnsMsr(index) && apic.TryReadMsr(index, out value);
        }
    }

    private bool TryWriteRoutedMsr(uint index, ulong value)
    {
        if (_synthetic is { } synthetic && synthetic.OwnsMsr(index))
            return synthetic.TryWriteMsr(index, value);
        if (_apic is not { } apic)
            return false;
        switch (index)
        {
            case MsrRouting.ApicBase:
                return apic.TryWriteApicBaseMsr(value);
            case MsrRouting.TscDeadline:
                apic.WriteTscDeadline(value, value == 0 ? 0 : DeadlineOnClock(value));
                return true;
            default:
                return apic.OwnsMsr(index) && apic.TryWriteMsr(index, value);
        }
    }

    private VpExit InternalError(string message) => new(VpExitReason.InternalError, Message: message);

    public void Dispose()
    {
        lock (_runPageLock)
        {
            if (_run != null)
            {
                LibC.Munmap(_run, _runSize);
                _run = null;
            }
        }

        if (_fd > 0)
        {
            LibC.Close(_fd);
            _fd = -1;
        }
    }
}
