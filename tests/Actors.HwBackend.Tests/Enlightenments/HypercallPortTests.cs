using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Tests.Devices;
using Actors.HwBackend.Tests.Emulation;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Enlightenments;

/// <summary>
/// The hypercall page's OUT on the software CPU: a one-byte write to <see cref="HypercallConvention.Port"/> at CPL 0
/// with hypercalls enabled is the call, carried out inside the CPU's run loop; anything else is an ordinary port write,
/// which the platform answers as it answers any port with nothing behind it.
/// </summary>
public sealed class HypercallPortTests : IDisposable
{
    private const ulong HypercallPage = 0x50000;
    private const ulong LinuxGuestOsId = 0x8100UL << 48 | 0x0601_0000;
    private const ulong UnknownCall = 0x99;
    private const ulong FastSignalEvent = 0x1_005D;

    private readonly LongModeMachine _m = new();
    private readonly HypercallDispatcher _dispatcher;
    private readonly HvProcessor _vp;

    public HypercallPortTests()
    {
        var clock = new ManualClock();
        var partition = new HvPartition(_m.Machine.Memory, clock, 1, _m.Machine.TscHz, _ => { });
        var apic = new RecordingSintDelivery();
        var synIc = new SyntheticInterruptController(_m.Machine.Memory, apic);
        _dispatcher = new HypercallDispatcher(_m.Machine.Memory, null);
        _vp = new HvProcessor(partition, 0, synIc, new SyntheticTimers(clock, synIc, apic, () => { }), _dispatcher);
    }

    public void Dispose() => _m.Dispose();

    [Fact]
    public void Calls_through_the_page_are_carried_out_without_an_exit()
    {
        Attach(enableHypercalls: true);
        _m.Load(LongModeMachine.CodeBase, a =>
        {
            a.mov(r9, HypercallPage);
            a.mov(rcx, UnknownCall);
            a.call(r9);
            a.mov(rbx, rax);
            a.mov(rcx, FastSignalEvent);
            a.mov(rdx, 2); // connection 2: nothing is connected
            a.call(r9);
            a.hlt();
        });
        _m.Vp.SetState(_m.InitialState());

        Assert.Equal(VpExitReason.Halt, _m.Run().Reason);
        VpState state = _m.Vp.GetState();
        Assert.Equal((ulong)HvStatus.InvalidHypercallCode, state.Gprs[3]);
        Assert.Equal((ulong)HvStatus.InvalidConnectionId, state.Gprs[0]);
        // The page returned to its caller: the OUT moved nothing, RSP is back where it was.
        Assert.Equal(LongModeMachine.StackTop, state.Gprs[4]);
        Assert.Equal(2, _dispatcher.Counts().Sum(c => c.Count));
    }

    [Fact]
    public void Thirty_two_bit_code_passes_its_call_in_edx_eax()
    {
        Attach(enableHypercalls: true);
        // In compatibility mode (a 32-bit code segment of long mode): EDX:EAX is the input value and the result.
        _m.Load(32, LongModeMachine.CodeBase, a =>
        {
            a.mov(edx, 0);
            a.mov(eax, (uint)UnknownCall);
            a.@out((byte)HypercallConvention.Port, al);
            a.hlt();
        });
        VpState initial = _m.InitialState();
        initial.Cs = initial.Cs with { Long = false, DefaultBig = true };
        _m.Vp.SetState(initial);

        Assert.Equal(VpExitReason.Halt, _m.Run().Reason);
        VpState state = _m.Vp.GetState();
        Assert.Equal(((ulong)HvStatus.InvalidHypercallCode, 0UL), (state.Gprs[0], state.Gprs[2]));
    }

    [Fact]
    public void Before_the_guest_enables_hypercalls_the_port_is_an_ordinary_port()
    {
        Attach(enableHypercalls: false);
        AssertOrdinaryPortWrite(ByteOutToThePort, size: 1, value: 0x34);
    }

    [Fact]
    public void Without_enlightenments_the_port_is_an_ordinary_port() =>
        AssertOrdinaryPortWrite(ByteOutToThePort, size: 1, value: 0x34);

    /// <summary>What a hypercall through the page does, when the port is not (yet) one.</summary>
    private static void ByteOutToThePort(Iced.Intel.Assembler a)
    {
        a.mov(rcx, UnknownCall);
        a.mov(eax, 0x1234);
        a.@out((byte)HypercallConvention.Port, al);
        a.hlt();
    }

    [Fact]
    public void Only_a_byte_is_a_call()
    {
        Attach(enableHypercalls: true);
        AssertOrdinaryPortWrite(a =>
        {
            a.mov(rcx, UnknownCall);
            a.mov(eax, 0x1234);
            a.mov(edx, HypercallConvention.Port);
            a.@out(dx, ax);
            a.hlt();
        }, size: 2, value: 0x1234);
    }

    private void Attach(bool enableHypercalls)
    {
        _m.Vp.AttachSyntheticRegisters(_vp);
        if (!enableHypercalls)
            return;
        Assert.True(_vp.TryWriteMsr(HvMsr.GuestOsId, LinuxGuestOsId));
        Assert.True(_vp.TryWriteMsr(HvMsr.Hypercall, HypercallPage | 1));
        Assert.True(_vp.HypercallsEnabled);
    }

    private void AssertOrdinaryPortWrite(Action<Iced.Intel.Assembler> code, byte size, ulong value)
    {
        _m.Load(LongModeMachine.CodeBase, code);
        _m.Vp.SetState(_m.InitialState());

        VpExit exit = _m.Run();
        Assert.Equal((VpExitReason.PortOut, HypercallConvention.Port, size, value), (exit.Reason, (ushort)exit.Port, exit.Size, exit.Data));
        VpState state = _m.Vp.GetState();
        Assert.Equal(0x1234UL, state.Gprs[0]); // no result: nothing was called
        Assert.Equal(UnknownCall, state.Gprs[1]);
        Assert.Empty(_dispatcher.Counts());
        Assert.Equal(VpExitReason.Halt, _m.Run().Reason);
    }
}
