using Actors.HwBackend.Devices.Legacy;
using Xunit;

namespace Actors.HwBackend.Tests.Devices;

public sealed class KeyboardControllerTests
{
    private const ushort Data = KeyboardController.DataPort;
    private const ushort Command = KeyboardController.CommandPort;

    private readonly List<string> _resets = [];
    private readonly KeyboardController _device;

    public KeyboardControllerTests() => _device = new KeyboardController(_resets.Add);

    private byte Status => (byte)_device.Read(Command, 1);

    // The bus cuts a read to its size; the device answers wider.
    private static uint DataByte(KeyboardController device) => device.Read(Data, 1) & 0xFF;

    [Fact]
    public void PulseCommandResetsOnlyWhenBitZeroIsPulsed()
    {
        // Linux's kb_wait polls for an empty input buffer before each 0xFE: it must see one.
        Assert.Equal(0, Status & 0x02);
        _device.Write(Command, 1, 0xFF); // pulses nothing
        _device.Write(Command, 1, 0xF1); // pulses bits 1-3, not the reset line
        Assert.Empty(_resets);

        _device.Write(Command, 1, 0xFE);
        Assert.Equal([KeyboardController.PulseResetReason], _resets);
    }

    [Fact]
    public void OutputPortWithResetLineLowResets()
    {
        _device.Write(Command, 1, 0xD0);
        Assert.Equal(0x03u, DataByte(_device)); // reset line high, A20 on

        _device.Write(Command, 1, 0xD1);
        _device.Write(Data, 1, 0x01); // A20 off, reset line still high
        Assert.False(_device.A20Enabled);
        Assert.Empty(_resets);

        _device.Write(Command, 1, 0xD1);
        _device.Write(Data, 1, 0x02);
        Assert.Equal([KeyboardController.OutputPortResetReason], _resets);
        Assert.True(_device.A20Enabled);
    }

    [Fact]
    public void SelfTestsAnswerThroughTheOutputBuffer()
    {
        Assert.Equal(0, Status & 0x01);
        _device.Write(Command, 1, 0xAA);
        Assert.Equal(0x01, Status & 0x01);
        Assert.Equal(0x55u, DataByte(_device));
        Assert.Equal(0, Status & 0x01); // read once, gone
        Assert.Equal(0x04, Status & 0x04); // system flag after a passed self-test

        _device.Write(Command, 1, 0xAB);
        Assert.Equal(0x00u, DataByte(_device));
    }

    [Fact]
    public void CommandByteReadsBackAndTracksThePortEnables()
    {
        _device.Write(Command, 1, 0x60);
        Assert.Equal(0x08, Status & 0x08); // the last write went to the command port
        _device.Write(Data, 1, 0x65);
        Assert.Equal(0, Status & 0x08);

        _device.Write(Command, 1, 0xAD); // keyboard off
        _device.Write(Command, 1, 0xA7); // mouse off
        _device.Write(Command, 1, 0x20);
        Assert.Equal(0x75u, DataByte(_device));

        _device.Write(Command, 1, 0xAE);
        _device.Write(Command, 1, 0xA8);
        _device.Write(Command, 1, 0x20);
        Assert.Equal(0x45u, DataByte(_device));
        Assert.Empty(_resets);
    }

    [Fact]
    public void AByteForTheMissingKeyboardTimesOut()
    {
        _device.Write(Data, 1, 0xF2); // "identify", to a keyboard that is not there
        Assert.Equal(0x40, Status & 0x40);
        Assert.Equal(0, Status & 0x01);

        _device.Write(Command, 1, 0xD2); // the controller can still echo a byte as if the keyboard sent it
        _device.Write(Data, 1, 0xFA);
        Assert.Equal(0x01, Status & 0x41);
        Assert.Equal(0xFAu, DataByte(_device));
    }

    [Fact]
    public void StateSurvivesSaveAndRestore()
    {
        _device.Write(Command, 1, 0xAA); // a reply not yet read
        _device.Write(Command, 1, 0xD1); // and a command waiting for its data byte
        var copy = new KeyboardController(_resets.Add);
        copy.RestoreState(_device.SaveState());

        Assert.Equal(_device.SaveState(), copy.SaveState());
        Assert.Equal(0x55u, DataByte(copy));
        copy.Write(Data, 1, 0x00);
        Assert.Equal([KeyboardController.OutputPortResetReason], _resets);
    }
}
