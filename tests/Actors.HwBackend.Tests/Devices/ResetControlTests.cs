using Actors.HwBackend.Devices.Legacy;
using Xunit;

namespace Actors.HwBackend.Tests.Devices;

public sealed class ResetControlTests
{
    private readonly List<string> _resets = [];
    private readonly ResetControl _device;

    public ResetControlTests() => _device = new ResetControl(_resets.Add);

    [Fact]
    public void PortAResetsOnRisingEdgeOfBitZeroOnly()
    {
        _device.Write(0x92, 1, 0x03);
        Assert.Equal([ResetControl.FastResetReason], _resets);

        _device.Write(0x92, 1, 0x03); // still set: no edge
        Assert.Single(_resets);

        _device.Write(0x92, 1, 0x02);
        _device.Write(0x92, 1, 0x01);
        Assert.Equal(2, _resets.Count);
    }

    [Fact]
    public void MachineResetRearmsFastReset()
    {
        _device.Write(0x92, 1, 0x01);
        _device.Reset();
        Assert.Equal(0u, _device.Read(0x92, 1) & 1);
        _device.Write(0x92, 1, 0x01);
        Assert.Equal(2, _resets.Count);
    }

    [Fact]
    public void A20GateReadsBack()
    {
        Assert.True(_device.A20Enabled); // this machine never masks A20
        Assert.Equal(0x02u, _device.Read(0x92, 1));

        _device.Write(0x92, 1, 0x00);
        Assert.False(_device.A20Enabled);
        Assert.Equal(0x00u, _device.Read(0x92, 1));

        // Linux's enable_a20_fast: read, set bit 1, clear bit 0, write.
        uint v = _device.Read(0x92, 1);
        _device.Write(0x92, 1, (v | 0x02) & ~1u);
        Assert.True(_device.A20Enabled);
        Assert.Empty(_resets);
    }

    [Theory]
    [InlineData(0x06u, ResetControl.HardResetReason)] // Linux reboot=pci writes 0x02 then 0x06
    [InlineData(0x0Eu, ResetControl.HardResetReason)]
    [InlineData(0x0Cu, ResetControl.HardResetReason)]
    [InlineData(0x04u, ResetControl.SoftResetReason)]
    public void ResetControlRegisterResetsWhenBitTwoIsWritten(uint value, string reason)
    {
        _device.Write(0xCF9, 1, value);
        Assert.Equal([reason], _resets);
    }

    [Fact]
    public void ResetControlRegisterKeepsOnlyResetTypeBits()
    {
        _device.Write(0xCF9, 1, 0x02);
        Assert.Empty(_resets);
        Assert.Equal(0x02u, _device.Read(0xCF9, 1));

        _device.Write(0xCF9, 1, 0xFF);
        Assert.Single(_resets);
        Assert.Equal(0x0Au, _device.Read(0xCF9, 1));
    }

    [Fact]
    public void SaveRestoreRoundTrips()
    {
        _device.Write(0x92, 1, 0x00);
        _device.Write(0xCF9, 1, 0x02);
        var state = _device.SaveState();

        var other = new ResetControl(_ => Assert.Fail("restore must not reset"));
        other.RestoreState(state);

        Assert.Equal(state, other.SaveState());
        Assert.False(other.A20Enabled);
        Assert.Equal(0x02u, other.Read(0xCF9, 1));
    }

    [Fact]
    public void BadInputNeverThrows()
    {
        foreach (ushort port in new ushort[] { 0x90, 0x92, 0x93, 0xCF8, 0xCF9, 0xFFFF })
        {
            foreach (int size in new[] { 1, 2, 4 })
            {
                _device.Read(port, size);
                _device.Write(port, size, 0);
            }
        }
        Assert.Equal(0xFFu, _device.Read(0x93, 1));
        Assert.Throws<ArgumentNullException>(() => new ResetControl(null!));
    }
}
