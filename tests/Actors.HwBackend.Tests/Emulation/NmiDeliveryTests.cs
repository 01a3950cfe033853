using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Devices.Apic;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Snapshots;
using Actors.HwBackend.Tests.Devices;
using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// NMIs through the local APIC to the software CPU (Intel SDM vol. 3, 6.7.1 and 10.5.1): vector 2
/// whatever RFLAGS.IF says, out of HLT, blocked from delivery until the handler's IRET with one
/// more latched meanwhile, and the latch and blocking kept in the vCPU's state.
/// </summary>
public sealed class NmiDeliveryTests : IDisposable
{
    private const ulong SenderCode = LongModeMachine.CodeBase;
    private const ulong TargetCode = LongModeMachine.CodeBase + 0x1000;
    private const ulong NmiHandler = LongModeMachine.HandlerBase;
    private const ushort SentPort = 0x80, ResumedPort = 0x81, HandlerPort = 0x90;

    private readonly LongModeMachine _m = new(processors: 2);
    private readonly ApicBus _bus = new();
    private readonly LocalApic[] _apics = new LocalApic[2];

    public NmiDeliveryTests()
    {
        for (int i = 0; i < 2; i++)
        {
            var vp = _m.Machine.Processors[i];
            _apics[i] = new LocalApic((uint)i, bootstrap: i == 0, new ManualClock(), _bus, new ProcessorSink(vp));
            _bus.Attach(_apics[i]);
            vp.AttachInterruptController(_apics[i]);
            _apics[i].WriteMmio(LocalApic.SvrOffset, 4, 0x1FF);
        }

        // vCPU 0 sends an NMI IPI to APIC 1 each time it runs: ICR high = destination, ICR low = NMI (100b).
        _m.Load(SenderCode, a =>
        {
            var again = a.CreateLabel();
            a.Label(ref again);
            a.mov(rbx, LocalApic.DefaultBase);
            a.mov(__dword_ptr[rbx + (int)LocalApic.IcrHighOffset], 1 << 24);
            a.mov(__dword_ptr[rbx + (int)LocalApic.IcrLowOffset], 0x400);
            a.@out((byte)SentPort, al);
            a.jmp(again);
        });
        // vCPU 1 halts with interrupts off; after the NMI handler's IRET it reports and halts again.
        _m.Load(TargetCode, a =>
        {
            a.cli();
            a.hlt();
            a.@out((byte)ResumedPort, al);
            a.hlt();
        });
        // The handler counts in R8, keeps the interrupted RIP in R11 and RFLAGS in R9, and reports before IRET.
        _m.Load(NmiHandler, a =>
        {
            a.inc(r8);
            a.mov(r11, __qword_ptr[rsp]);
            a.mov(r9, __qword_ptr[rsp + 16]);
            a.@out((byte)HandlerPort, al);
            a.iretq();
        });
        _m.SetGate(ExceptionVector.NMI, NmiHandler);

        _m.Machine.Processors[0].SetState(_m.InitialState(SenderCode));
        var target = _m.InitialState(TargetCode);
        target.Gprs[4] = LongModeMachine.StackTop - 0x8000;
        _m.Machine.Processors[1].SetState(target);
    }

    private IVirtualProcessor Sender => _m.Machine.Processors[0];

    private IVirtualProcessor Target => _m.Machine.Processors[1];

    public void Dispose() => _m.Dispose();

    [Fact]
    public void AnNmiIpiWakesAHaltedVcpuWithInterruptsOffAndRunsItsVector2Handler()
    {
        Assert.Equal(VpExitReason.Halt, Target.Run().Reason);

        SendNmi();
        AssertPortOut(Target.Run(), HandlerPort);
        var registers = Target.GetGeneralRegisters();
        Assert.Equal(1UL, registers.Gprs[8]);
        Assert.Equal(0UL, registers.Gprs[9] & RflagsIf); // delivered although IF was clear
        Assert.Equal(TargetCode + 2, registers.Gprs[11]); // returns after the HLT

        AssertPortOut(Target.Run(), ResumedPort);
        Assert.Equal(1UL, Target.GetGeneralRegisters().Gprs[8]);
        Assert.Equal(0, _apics[1].NmisDropped);
    }

    [Fact]
    public void AnNmiDuringTheHandlerWaitsForItsIretAndAThirdIsDropped()
    {
        Assert.Equal(VpExitReason.Halt, Target.Run().Reason);
        SendNmi();
        AssertPortOut(Target.Run(), HandlerPort);

        SendNmi(); // latched: the handler has not executed IRET yet
        SendNmi(); // the latch holds one: lost
        Assert.Equal(1, _apics[1].NmisDropped);

        // IRET ends the blocking and the latched NMI comes before the next instruction of the
        // interrupted code: it returns to the same place, not into the handler.
        AssertPortOut(Target.Run(), HandlerPort);
        var registers = Target.GetGeneralRegisters();
        Assert.Equal(2UL, registers.Gprs[8]);
        Assert.Equal(TargetCode + 2, registers.Gprs[11]);

        AssertPortOut(Target.Run(), ResumedPort);
        Assert.Equal(2UL, Target.GetGeneralRegisters().Gprs[8]);
        Assert.Equal(1, _apics[1].NmisDropped);
    }

    [Fact]
    public void Lint1InNmiModeDeliversVector2()
    {
        _apics[1].WriteMmio(LocalApic.LvtLint1Offset, 4, 0x400); // delivery mode NMI, unmasked
        Assert.Equal(VpExitReason.Halt, Target.Run().Reason);

        _apics[1].SetLint1(true);
        AssertPortOut(Target.Run(), HandlerPort);
        Assert.Equal(1UL, Target.GetGeneralRegisters().Gprs[8]);

        // LINT1 is edge-triggered in NMI mode: holding the pin high raises nothing more.
        _apics[1].SetLint1(true);
        AssertPortOut(Target.Run(), ResumedPort);
        Assert.Equal(1UL, Target.GetGeneralRegisters().Gprs[8]);
    }

    [Fact]
    public void TheLatchAndTheBlockingTravelWithTheVcpuState()
    {
        Assert.Equal(VpExitReason.Halt, Target.Run().Reason);
        SendNmi();
        AssertPortOut(Target.Run(), HandlerPort);
        SendNmi();

        VpState saved = Target.GetState();
        Assert.True(saved.NmiPending);
        Assert.True(saved.NmiBlocked);

        // Through the snapshot encoding, into a vCPU that had neither.
        var writer = new SnapshotSectionWriter(4096);
        saved.Write(writer);
        var reader = new SnapshotSectionReader("vcpu/1", VpState.SnapshotVersion, writer.Written);
        VpState restored = VpState.Read(ref reader, VpState.SnapshotVersion);
        Assert.Equal(0, reader.Remaining);
        Target.SetState(new VpState());
        Assert.False(Target.GetState().NmiPending);
        Target.SetState(restored);
        Assert.True(Target.GetState().NmiPending);
        Assert.True(Target.GetState().NmiBlocked);

        // Still blocked: the latched NMI comes after the handler's IRET, not before it.
        AssertPortOut(Target.Run(), HandlerPort);
        var registers = Target.GetGeneralRegisters();
        Assert.Equal(2UL, registers.Gprs[8]);
        Assert.Equal(TargetCode + 2, registers.Gprs[11]);
        VpState inHandler = Target.GetState();
        Assert.False(inHandler.NmiPending);
        Assert.True(inHandler.NmiBlocked);

        AssertPortOut(Target.Run(), ResumedPort);
        Assert.False(Target.GetState().NmiBlocked);
    }

    [Fact]
    public void AVersion2VcpuSectionReadsWithNoNmiLatchedOrBlocked()
    {
        var state = new VpState { NmiPending = true, NmiBlocked = true, TscAdjust = 7 };
        var writer = new SnapshotSectionWriter(4096);
        state.Write(writer);
        // Version 2 ended with IA32_TSC_ADJUST: the same bytes without the two NMI flags (nor the
        // pending debug exceptions, 8 bytes, that version 4 added after them, nor IA32_SPEC_CTRL, 8
        // bytes, from version 5).
        var reader = new SnapshotSectionReader("vcpu/0", 2, writer.Written[..^(2 + 8 + 8)]);
        VpState old = VpState.Read(ref reader, 2);
        Assert.Equal(0, reader.Remaining);
        Assert.Equal(7, old.TscAdjust);
        Assert.False(old.NmiPending);
        Assert.False(old.NmiBlocked);
    }

    private const ulong RflagsIf = 1UL << 9;

    private void SendNmi() => AssertPortOut(Sender.Run(), SentPort);

    private static void AssertPortOut(VpExit exit, ushort port)
    {
        Assert.Equal(VpExitReason.PortOut, exit.Reason);
        Assert.Equal(port, exit.Port);
    }

    /// <summary>Plays the vCPU thread: the test runs each vCPU in turn, so a request only needs to reach the processor.</summary>
    private sealed class ProcessorSink(IVirtualProcessor processor) : ILocalApicSink
    {
        public void InterruptRequested() => processor.NotifyInterruptController();

        public bool NmiRequested() => processor.InjectNmi();

        public void TimerProgrammed()
        {
        }
    }
}
