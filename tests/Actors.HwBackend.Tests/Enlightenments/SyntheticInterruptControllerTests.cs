using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Memory;
using Xunit;

namespace Actors.HwBackend.Tests.Enlightenments;

public sealed class SyntheticInterruptControllerTests : IDisposable
{
    private const ulong MiB = 1 << 20;
    private const ulong MessagePage = 0x10000, EventPage = 0x11000;
    private const int VmBusSint = 2;
    private const byte VmBusVector = 0xF3;

    private readonly GuestRam _ram = new(4 * MiB);
    private readonly GuestPhysicalMap _memory;
    private readonly RecordingSintDelivery _apic = new();
    private readonly SyntheticInterruptController _synIc;

    public SyntheticInterruptControllerTests()
    {
        _memory = new GuestPhysicalMap(_ram);
        _memory.AddRam("low", 0, 2 * MiB, 0);
        _memory.AddMmio("hole", 2 * MiB, MiB);
        _synIc = new SyntheticInterruptController(_memory, _apic);
    }

    public void Dispose() => _ram.Dispose();

    private static ulong Slot(int sint) => MessagePage + (ulong)(sint * SyntheticInterruptController.SlotBytes);

    /// <summary>What Linux's hv_synic_enable_regs does: the pages, SINT2 at 0xF3 with auto-EOI, then SCONTROL.</summary>
    private void EnableAsLinuxDoes(bool autoEoi = true)
    {
        Assert.True(_synIc.TryWriteMsr(HvMsr.Simp, MessagePage | 1));
        Assert.True(_synIc.TryWriteMsr(HvMsr.Siefp, EventPage | 1));
        Assert.True(_synIc.TryWriteMsr(HvMsr.Sint0 + VmBusSint, VmBusVector | (autoEoi ? 1UL << 17 : 0)));
        Assert.True(_synIc.TryWriteMsr(HvMsr.SControl, 1));
    }

    [Fact]
    public void AMessageLandsInItsSintsSlotAndRaisesTheSintsVector()
    {
        EnableAsLinuxDoes();
        Assert.True(_synIc.TryPostMessage(VmBusSint, HvMessageType.VmBus, sender: 7, [1, 2, 3]));

        Assert.Equal(HvMessageType.VmBus, _memory.ReadValue<uint>(Slot(VmBusSint)));
        Assert.Equal(3, _memory.ReadValue<byte>(Slot(VmBusSint) + 4));
        Assert.Equal(0, _memory.ReadValue<byte>(Slot(VmBusSint) + 5)); // nothing behind it
        Assert.Equal(7UL, _memory.ReadValue<ulong>(Slot(VmBusSint) + 8));
        Assert.Equal(0x030201u, _memory.ReadValue<uint>(Slot(VmBusSint) + 16));
        Assert.Equal([VmBusVector], _apic.Delivered);
        Assert.True(_apic.IsAutoEoi(VmBusVector));
    }

    [Fact]
    public void ASecondMessageWaitsForEomAndTheGuestIsToldToSendOne()
    {
        EnableAsLinuxDoes();
        Assert.True(_synIc.TryPostMessage(VmBusSint, HvMessageType.VmBus, 0, [1]));
        Assert.True(_synIc.TryPostMessage(VmBusSint, HvMessageType.VmBus, 0, [2]));
        Assert.Equal(1, _synIc.WaitingMessages);
        Assert.Equal(1, _memory.ReadValue<byte>(Slot(VmBusSint) + 5) & 1); // MessagePending
        Assert.Single(_apic.Delivered);

        // The guest consumes the first, sees MessagePending, writes EOM: the second arrives.
        _memory.WriteValue(Slot(VmBusSint), HvMessageType.None);
        Assert.True(_synIc.TryWriteMsr(HvMsr.Eom, 0));
        Assert.Equal(2, _memory.ReadValue<byte>(Slot(VmBusSint) + 16));
        Assert.Equal(0, _synIc.WaitingMessages);
        Assert.Equal(2, _apic.Delivered.Count);
    }

    [Fact]
    public void AGuestThatNeverEmptiesItsSlotMakesPostsFailNotPileUp()
    {
        EnableAsLinuxDoes();
        for (int i = 0; i <= SyntheticInterruptController.MaxWaitingPerSint; i++)
            Assert.True(_synIc.TryPostMessage(VmBusSint, HvMessageType.VmBus, 0, [(byte)i]));
        Assert.False(_synIc.TryPostMessage(VmBusSint, HvMessageType.VmBus, 0, [0xFF]));
        Assert.Equal(SyntheticInterruptController.MaxWaitingPerSint, _synIc.WaitingMessages);
        Assert.Single(_apic.Delivered);
    }

    [Fact]
    public void AMaskedSintGetsItsMessageButNoInterrupt()
    {
        EnableAsLinuxDoes();
        Assert.True(_synIc.TryWriteMsr(HvMsr.Sint0 + 5, 0x40 | (1UL << 16)));
        Assert.True(_synIc.TryPostMessage(5, HvMessageType.VmBus, 0, [9]));
        Assert.Equal(HvMessageType.VmBus, _memory.ReadValue<uint>(Slot(5)));
        Assert.Empty(_apic.Delivered);
        Assert.False(_apic.IsAutoEoi(0x40));
    }

    [Fact]
    public void EventFlagsRaiseTheSintOnlyWhenTheyGoFromClearToSet()
    {
        EnableAsLinuxDoes();
        Assert.True(_synIc.SignalEvent(VmBusSint, 37));
        Assert.True(_synIc.SignalEvent(VmBusSint, 37)); // already set: no second interrupt
        ulong dword = EventPage + VmBusSint * 256 + 4;
        Assert.Equal(1u << 5, _memory.ReadValue<uint>(dword));
        Assert.Equal([VmBusVector], _apic.Delivered);

        _memory.WriteValue(dword, 0u); // the guest consumes the flag
        Assert.True(_synIc.SignalEvent(VmBusSint, 37));
        Assert.Equal(2, _apic.Delivered.Count);
    }

    [Fact]
    public void NothingIsDeliveredWhileTheSynIcOrItsPagesAreOff()
    {
        Assert.False(_synIc.TryPostMessage(VmBusSint, HvMessageType.VmBus, 0, [1]));
        Assert.False(_synIc.SignalEvent(VmBusSint, 1));
        Assert.True(_synIc.TryWriteMsr(HvMsr.Simp, MessagePage | 1));
        Assert.False(_synIc.TryPostMessage(VmBusSint, HvMessageType.VmBus, 0, [1])); // SCONTROL still off
        Assert.Empty(_apic.Delivered);
    }

    [Theory]
    [InlineData(HvMsr.Simp, 2 * MiB | 1)] // a page in MMIO
    [InlineData(HvMsr.Siefp, 64 * MiB | 1)] // beyond RAM
    [InlineData(HvMsr.Sint0, 0x0F)] // an unmasked SINT with a vector below 16
    [InlineData(HvMsr.Sint0, 0x40 | (1UL << 30))] // reserved bits
    [InlineData(HvMsr.SVersion, 1)] // read-only
    public void ABadRegisterValueIsAGeneralProtectionFault(uint msr, ulong value) =>
        Assert.False(_synIc.TryWriteMsr(msr, value));

    [Fact]
    public void RegistersReadBackWithTheirResetValues()
    {
        Assert.True(_synIc.TryReadMsr(HvMsr.SVersion, out ulong version));
        Assert.Equal(1UL, version);
        Assert.True(_synIc.TryReadMsr(HvMsr.Sint15, out ulong sint));
        Assert.Equal(1UL << 16, sint); // masked
        EnableAsLinuxDoes();
        Assert.True(_synIc.TryReadMsr(HvMsr.Simp, out ulong simp));
        Assert.Equal(MessagePage | 1, simp);
    }

    [Fact]
    public void WaitingMessagesAndRegistersTravelInTheState()
    {
        EnableAsLinuxDoes();
        Assert.True(_synIc.TryPostMessage(VmBusSint, HvMessageType.VmBus, 0, [1]));
        Assert.True(_synIc.TryPostMessage(VmBusSint, HvMessageType.VmBus, 0, [2]));
        SyntheticInterruptControllerState saved = _synIc.SaveState();

        var target = new RecordingSintDelivery();
        var copy = new SyntheticInterruptController(_memory, target);
        Assert.Null(copy.FindRestoreProblem(saved));
        copy.RestoreState(saved);
        Assert.True(target.IsAutoEoi(VmBusVector));
        Assert.Equal(1, copy.WaitingMessages);

        _memory.WriteValue(Slot(VmBusSint), HvMessageType.None);
        Assert.True(copy.TryWriteMsr(HvMsr.Eom, 0));
        Assert.Equal(2, _memory.ReadValue<byte>(Slot(VmBusSint) + 16));
        Assert.Equal([VmBusVector], target.Delivered);

        Assert.Contains("is not RAM", copy.FindRestoreProblem(saved with { Simp = 2 * MiB | 1 }));
        Assert.Contains("not one this SynIC", copy.FindRestoreProblem(saved with { Waiting = [new(20, 1, 0, [])] }));
    }
}
