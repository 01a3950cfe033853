using System.Buffers.Binary;
using System.Text;
using Actors.HwBackend.Devices.Legacy;
using Actors.HwBackend.Platform;
using Xunit;

namespace Actors.HwBackend.Tests.Devices;

public sealed class FwCfgDeviceTests
{
    private const ulong RamSize = 512UL << 20;
    private readonly FwCfgDevice _device = new(RamSize, 4);

    private byte[] ReadItem(ushort key, int length)
    {
        _device.Write(FwCfgDevice.SelectorPort, 2, key);
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
            bytes[i] = (byte)_device.Read(FwCfgDevice.DataPort, 1);
        return bytes;
    }

    [Fact]
    public void SignatureIsQemu() => Assert.Equal("QEMU"u8.ToArray(), ReadItem(0x00, 4));

    [Fact]
    public void IdAdvertisesTraditionalInterfaceOnly() => Assert.Equal(new byte[] { 1, 0, 0, 0 }, ReadItem(0x01, 4));

    [Fact]
    public void RamSizeIsLittleEndianU64() =>
        Assert.Equal(new byte[] { 0, 0, 0, 0x20, 0, 0, 0, 0 }, ReadItem(0x03, 8));

    [Fact]
    public void CpuCountIsLittleEndianU16() => Assert.Equal(new byte[] { 4, 0 }, ReadItem(0x05, 2));

    [Fact]
    public void MaxRamIsZero() => Assert.Equal(new byte[8], ReadItem(0x11, 8));

    [Fact]
    public void ReadsPastTheEndAreZero() => Assert.Equal(new byte[] { 4, 0, 0, 0, 0 }, ReadItem(0x05, 5));

    [Theory]
    [InlineData((ushort)0x02)]
    [InlineData((ushort)0x1234)]
    [InlineData((ushort)0x20)] // no file added yet
    [InlineData((ushort)0xFFFF)]
    public void UnknownKeysReadZero(ushort key) => Assert.Equal(new byte[16], ReadItem(key, 16));

    [Fact]
    public void SelectingRewinds()
    {
        Assert.Equal("QE"u8.ToArray(), ReadItem(0x00, 2));
        Assert.Equal("QEMU"u8.ToArray(), ReadItem(0x00, 4));
    }

    [Fact]
    public void KutStyleRead()
    {
        // kvm-unit-tests' fwcfg_get_u64: outw(key, 0x510) then eight inb(0x511), little-endian.
        var bus = new IoPortBus();
        bus.Register(FwCfgDevice.SelectorPort, FwCfgDevice.PortCount, _device, "fw_cfg");
        bus.Write(0x510, 2, 0x03);
        ulong value = 0;
        for (int i = 0; i < 8; i++)
            value |= (ulong)bus.Read(0x511, 1) << (8 * i);
        Assert.Equal(RamSize, value);
    }

    [Fact]
    public void WideDataReadsAreSequentialBytes()
    {
        _device.Write(FwCfgDevice.SelectorPort, 2, 0x00);
        Assert.Equal(0x554D_4551u, _device.Read(FwCfgDevice.DataPort, 4)); // "QEMU" little-endian
        Assert.Equal(0u, _device.Read(FwCfgDevice.DataPort, 4));
    }

    [Fact]
    public void EmptyFileDirectoryHasZeroCount() => Assert.Equal(new byte[4], ReadItem(0x19, 4));

    [Fact]
    public void FileDirectoryMatchesQemuLayout()
    {
        var first = new byte[] { 1, 2, 3 };
        var second = new byte[0x1234];
        Assert.Equal((ushort)0x20, _device.AddFile("etc/first", first));
        Assert.Equal((ushort)0x21, _device.AddFile("opt/second", second));

        var dir = ReadItem(0x19, 4 + 2 * 64 + 4);
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32BigEndian(dir));

        var expected = new byte[4 + 2 * 64 + 4];
        expected[3] = 2;
        // entry 0: size 3 BE, select 0x0020 BE, reserved 0, name NUL-padded to 56
        expected[4 + 3] = 3;
        expected[4 + 5] = 0x20;
        Encoding.ASCII.GetBytes("etc/first").CopyTo(expected, 4 + 8);
        // entry 1
        expected[68 + 2] = 0x12;
        expected[68 + 3] = 0x34;
        expected[68 + 5] = 0x21;
        Encoding.ASCII.GetBytes("opt/second").CopyTo(expected, 68 + 8);
        Assert.Equal(expected, dir);

        Assert.Equal(first, ReadItem(0x20, 3));
        Assert.Equal(new byte[] { 1, 2, 3, 0 }, ReadItem(0x20, 4));
    }

    [Fact]
    public void AddFileCopiesContents()
    {
        var contents = new byte[] { 7 };
        _device.AddFile("etc/x", contents);
        contents[0] = 9;
        Assert.Equal(new byte[] { 7 }, ReadItem(0x20, 1));
    }

    [Fact]
    public void AddFileRefusesDuplicatesAndBadNames()
    {
        _device.AddFile("etc/a", [1]);
        var dup = Assert.Throws<ArgumentException>(() => _device.AddFile("etc/a", [2]));
        Assert.Contains("etc/a", dup.Message);
        Assert.Contains("already", dup.Message);

        _device.AddFile(new string('n', 55), []); // the longest legal name
        Assert.Throws<ArgumentException>(() => _device.AddFile(new string('n', 56), []));
        Assert.Throws<ArgumentException>(() => _device.AddFile("", []));
        Assert.Throws<ArgumentException>(() => _device.AddFile("a\0b", []));
        Assert.Throws<ArgumentNullException>(() => _device.AddFile("etc/b", null!));

        Assert.Equal(new byte[] { 0, 0, 0, 2 }, ReadItem(0x19, 4)); // refused files left no trace
    }

    [Fact]
    public void SelectorAndOffsetSaveRestore()
    {
        _device.Write(FwCfgDevice.SelectorPort, 2, 0x00);
        _device.Read(FwCfgDevice.DataPort, 1);
        _device.Read(FwCfgDevice.DataPort, 1);
        var state = _device.SaveState();
        Assert.Equal(new FwCfgState(0x00, 2), state);

        var other = new FwCfgDevice(RamSize, 4);
        other.RestoreState(state);
        Assert.Equal((uint)'M', other.Read(FwCfgDevice.DataPort, 1));
        Assert.Equal((uint)'U', other.Read(FwCfgDevice.DataPort, 1));
        Assert.Equal(0u, other.Read(FwCfgDevice.DataPort, 1));

        other.RestoreState(new FwCfgState(0x05, 100)); // past the end reads zeros
        Assert.Equal(0u, other.Read(FwCfgDevice.DataPort, 1));
        Assert.Throws<ArgumentException>(() => other.RestoreState(new FwCfgState(0, -1)));
    }

    [Fact]
    public void BadInputNeverThrows()
    {
        foreach (ushort port in new ushort[] { 0x50F, 0x510, 0x511, 0x512, 0xFFFF })
        {
            foreach (int size in new[] { 1, 2, 4 })
            {
                _device.Write(port, size, 0xFFFF_FFFF);
                _device.Read(port, size);
            }
        }
        // Writes to the data port are ignored and do not disturb the selection.
        _device.Write(FwCfgDevice.SelectorPort, 2, 0x00);
        _device.Write(FwCfgDevice.DataPort, 1, 0x55);
        Assert.Equal((uint)'Q', _device.Read(FwCfgDevice.DataPort, 1));
        Assert.Equal(0u, _device.Read(FwCfgDevice.SelectorPort, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FwCfgDevice(0, 0));
    }
}
