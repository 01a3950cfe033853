using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Tests.Devices;
using Xunit;

namespace Actors.HwBackend.Tests.Enlightenments;

public sealed class SyntheticTimersTests : IDisposable
{
    private const ulong MiB = 1 << 20;
    private const ulong MessagePage = 0x10000;
    private const int TimerSint = 2;
    private const byte SintVector = 0xF3;
    private const uint Config0 = HvMsr.Stimer0Config, Count0 = HvMsr.Stimer0Config + 1;
    private const ulong Enable = 1, Periodic = 2, AutoEnable = 8, Direct = 1UL << 12;

    private readonly GuestRam _ram = new(4 * MiB);
    private readonly GuestPhysicalMap _memory;
    private readonly ManualClock _clock = new(now: 1_000_000);
    private readonly RecordingSintDelivery _apic = new();
    private readonly SyntheticInterruptController _synIc;
    private readonly SyntheticTimers _timers;
    private int _replans;

    public SyntheticTimersTests()
    {
        _memory = new GuestPhysicalMap(_ram);
        _memory.AddRam("low", 0, 2 * MiB, 0);
        _synIc = new SyntheticInterruptController(_memory, _apic);
        _timers = new SyntheticTimers(_clock, _synIc, _apic, () => _replans++);
        Assert.True(_synIc.TryWriteMsr(HvMsr.Simp, MessagePage | 1));
        Assert.True(_synIc.TryWriteMsr(HvMsr.Sint0 + TimerSint, SintVector));
        Assert.True(_synIc.TryWriteMsr(HvMsr.SControl, 1));
    }

    public void Dispose() => _ram.Dispose();

    private static ulong MessageMode(int sint) => (ulong)sint << 16;

    private void RunTo(long now)
    {
        _clock.Now = now;
        if (_timers.NextEventNanoseconds <= now)
            _timers.FireDue(now);
    }

    private ulong Slot => MessagePage + TimerSint * 256;

    [Fact]
    public void AOneShotTimerExpiresAtItsAbsoluteTimeWithAMessageAndDisablesItself()
    {
        // Linux's way: configure with auto-enable, then write the absolute expiry (reference time, 100 ns units).
        Assert.True(_timers.TryWriteMsr(Config0, MessageMode(TimerSint) | AutoEnable));
        Assert.True(_timers.TryWriteMsr(Count0, 50_000)); // 5 ms of reference time
        Assert.Equal(5_000_000L, _timers.NextEventNanoseconds);
        Assert.Equal(2, _replans);

        RunTo(4_999_999);
        Assert.Empty(_apic.Delivered);
        RunTo(5_000_100);

        Assert.Equal(HvMessageType.TimerExpired, _memory.ReadValue<uint>(Slot));
        Assert.Equal(0u, _memory.ReadValue<uint>(Slot + 16)); // timer 0
        Assert.Equal(50_000UL, _memory.ReadValue<ulong>(Slot + 24)); // expiration time
        Assert.Equal(50_001UL, _memory.ReadValue<ulong>(Slot + 32)); // delivery time
        Assert.Equal([SintVector], _apic.Delivered);
        Assert.True(_timers.TryReadMsr(Config0, out ulong config));
        Assert.Equal(0UL, config & Enable);
        Assert.Null(_timers.NextEventNanoseconds);
    }

    [Fact]
    public void APeriodicDirectModeTimerRaisesItsVectorEveryPeriodAndSkipsWhatItMissed()
    {
        Assert.True(_timers.TryWriteMsr(Count0, 10_000)); // 1 ms
        Assert.True(_timers.TryWriteMsr(Config0, Enable | Periodic | Direct | (0x40UL << 4)));
        Assert.Equal(2_000_000L, _timers.NextEventNanoseconds);

        RunTo(2_000_000);
        RunTo(3_000_000);
        Assert.Equal([0x40, 0x40], _apic.Delivered);
        RunTo(10_500_000); // a starved timer thread: one expiry, not seven
        Assert.Equal(3, _apic.Delivered.Count);
        Assert.Equal(11_000_000L, _timers.NextEventNanoseconds);
        Assert.Equal(0u, _memory.ReadValue<uint>(Slot)); // no messages in direct mode
    }

    [Fact]
    public void ACountOfZeroStopsATimer()
    {
        Assert.True(_timers.TryWriteMsr(Config0, MessageMode(TimerSint) | AutoEnable));
        Assert.True(_timers.TryWriteMsr(Count0, 50_000));
        Assert.True(_timers.TryWriteMsr(Count0, 0));
        Assert.Null(_timers.NextEventNanoseconds);
        Assert.True(_timers.TryReadMsr(Config0, out ulong config));
        Assert.Equal(0UL, config & Enable);
    }

    [Fact]
    public void AnExpiryInThePastFiresAtOnce()
    {
        Assert.True(_timers.TryWriteMsr(Count0 + 2, 1)); // timer 1, 100 ns after boot: long gone
        Assert.True(_timers.TryWriteMsr(Config0 + 2, MessageMode(TimerSint) | Enable));
        Assert.Equal(_clock.Now, _timers.NextEventNanoseconds);
        RunTo(_clock.Now);
        Assert.Equal(1u, _memory.ReadValue<uint>(Slot + 16)); // timer 1
    }

    [Fact]
    public void AMessageTheSynIcCannotTakeIsTriedAgain()
    {
        Assert.True(_synIc.TryWriteMsr(HvMsr.SControl, 0));
        Assert.True(_timers.TryWriteMsr(Count0, 50_000));
        Assert.True(_timers.TryWriteMsr(Config0, MessageMode(TimerSint) | Enable));
        RunTo(5_000_000);
        Assert.Equal(6_000_000L, _timers.NextEventNanoseconds);

        Assert.True(_synIc.TryWriteMsr(HvMsr.SControl, 1));
        RunTo(6_000_000);
        Assert.Equal(HvMessageType.TimerExpired, _memory.ReadValue<uint>(Slot));
        Assert.Null(_timers.NextEventNanoseconds);
    }

    [Theory]
    [InlineData(1UL << 20)] // reserved
    [InlineData(Direct | (0x0FUL << 4))] // a direct-mode vector below 16
    public void ABadConfigurationIsAGeneralProtectionFault(ulong config) =>
        Assert.False(_timers.TryWriteMsr(Config0, config));

    [Fact]
    public void TimersTravelInTheState()
    {
        Assert.True(_timers.TryWriteMsr(Count0 + 6, 10_000));
        Assert.True(_timers.TryWriteMsr(Config0 + 6, Enable | Periodic | Direct | (0x41UL << 4)));
        SyntheticTimersState saved = _timers.SaveState();
        Assert.Null(SyntheticTimers.FindRestoreProblem(saved));

        var copy = new SyntheticTimers(_clock, _synIc, _apic, () => { });
        copy.RestoreState(saved);
        Assert.Equal(_timers.NextEventNanoseconds, copy.NextEventNanoseconds);
        copy.FireDue(2_000_000);
        Assert.Equal([0x41], _apic.Delivered);
        Assert.NotNull(SyntheticTimers.FindRestoreProblem(saved with { Config = [1UL << 40, 0, 0, 0] }));
    }
}
