using System.Buffers.Binary;
using System.Text;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// QEMU's fw_cfg through its traditional x86 I/O interface (QEMU docs/specs/fw_cfg.rst): a 16-bit
/// write to 0x510 selects an item and rewinds it, byte reads of 0x511 return its bytes in order,
/// and reads past the end (or of an item that does not exist) return 0. kvm-unit-tests reads
/// RAM_SIZE and NB_CPUS here; firmware finds named blobs through the file directory. There is no
/// DMA interface (ID bit 1 clear) and the data port ignores writes, as QEMU has since 2.4.
/// Items are fixed while the machine is built; selecting one is a dictionary lookup and a data
/// read is an array index, so neither allocates.
/// </summary>
public sealed class FwCfgDevice : IPortDevice
{
    public const ushort SelectorPort = 0x510;
    public const ushort DataPort = 0x511;
    public const int PortCount = 2;

    public const ushort SignatureKey = 0x00;
    public const ushort IdKey = 0x01;
    public const ushort RamSizeKey = 0x03;
    public const ushort NbCpusKey = 0x05;
    public const ushort MaxRamKey = 0x11;
    public const ushort FileDirKey = 0x19;
    public const ushort FirstFileKey = 0x20;

    /// <summary>Longest file name in bytes; the directory entry has 56 bytes and the name must end in NUL.</summary>
    public const int MaxFileNameLength = 55;

    private const int FileNameFieldLength = 56;
    private const int FileDirEntryLength = 4 + 2 + 2 + FileNameFieldLength;

    // Bit 14 marks a write selector and bit 15 an architecture-specific item; the rest is the index.
    private const ushort KeyIndexMask = 0x3FFF;

    private const uint IdTraditionalInterface = 0x01;

    private readonly Lock _lock = new();
    private readonly Dictionary<ushort, byte[]> _items = [];
    private readonly List<(string Name, ushort Key, int Size)> _files = [];
    private ushort _selector;
    private byte[] _current = [];
    private int _offset;

    /// <param name="ramSizeBytes">Guest RAM reported under RAM_SIZE.</param>
    /// <param name="cpuCount">vCPUs reported under NB_CPUS; kvm-unit-tests waits for that many to come up.</param>
    public FwCfgDevice(ulong ramSizeBytes, int cpuCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cpuCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cpuCount, ushort.MaxValue);
        _items[SignatureKey] = "QEMU"u8.ToArray();
        _items[IdKey] = LittleEndian32(IdTraditionalInterface);
        _items[RamSizeKey] = LittleEndian64(ramSizeBytes);
        var cpus = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(cpus, (ushort)cpuCount);
        _items[NbCpusKey] = cpus;
        _items[MaxRamKey] = LittleEndian64(0); // kvm-unit-tests: 0 means no limit
        RebuildFileDirectory();
        Select(SignatureKey);
    }

    /// <summary>
    /// Adds a named blob under the next free selector (0x20, 0x21, ...) and lists it in the file
    /// directory, in the order added. Returns the selector. Configuration-time only.
    /// </summary>
    public ushort AddFile(string name, byte[] contents)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(contents);
        int nameBytes = Encoding.UTF8.GetByteCount(name);
        if (nameBytes > MaxFileNameLength)
            throw new ArgumentException($"fw_cfg file name '{name}' is {nameBytes} bytes; the limit is {MaxFileNameLength}", nameof(name));
        if (name.Contains('\0'))
            throw new ArgumentException("fw_cfg file names cannot contain NUL", nameof(name));
        lock (_lock)
        {
            foreach (var file in _files)
            {
                if (file.Name == name)
                    throw new ArgumentException($"fw_cfg already has a file named '{name}' (selector 0x{file.Key:x})", nameof(name));
            }
            int key = FirstFileKey + _files.Count;
            if (key > KeyIndexMask)
                throw new InvalidOperationException($"fw_cfg has no free selector for '{name}'");
            _items[(ushort)key] = contents.ToArray();
            _files.Add((name, (ushort)key, contents.Length));
            RebuildFileDirectory();
            if (_selector == FileDirKey || _selector == key)
                Reselect();
            return (ushort)key;
        }
    }

    public uint Read(ushort port, int size)
    {
        // The selector port is write-only and reads 0. A wide read of the data port returns that
        // many stream bytes, first byte lowest, as QEMU's wide MMIO data reads do; x86 guests
        // read bytes anyway.
        if (port != DataPort)
            return 0;
        lock (_lock)
        {
            uint value = 0;
            for (int i = 0; i < size; i++)
                value |= NextByte() << (8 * i);
            return value;
        }
    }

    public void Write(ushort port, int size, uint value)
    {
        // Only the selector port takes writes. A byte write selects a low key; QEMU wants a word,
        // but a one-byte select of the keys below 0x100 is harmless and saves a guest bug report.
        if (port != SelectorPort)
            return;
        lock (_lock)
            Select(size == 1 ? (ushort)(value & 0xFF) : (ushort)value);
    }

    public FwCfgState SaveState()
    {
        lock (_lock)
            return new FwCfgState(_selector, _offset);
    }

    /// <summary>Why <paramref name="state"/> cannot be restored, or null: lets a machine check every part before it changes any.</summary>
    public static string? FindRestoreProblem(FwCfgState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Offset < 0 ? $"saved fw_cfg offset {state.Offset} is negative" : null;
    }

    public void RestoreState(FwCfgState state)
    {
        if (FindRestoreProblem(state) is string problem)
            throw new ArgumentException(problem, nameof(state));
        lock (_lock)
        {
            Select(state.Selector);
            // An offset past the end of a rebuilt item reads zeros, like any read past the end.
            _offset = state.Offset;
        }
    }

    private uint NextByte()
    {
        if (_offset >= _current.Length)
            return 0;
        return _current[_offset++];
    }

    private void Select(ushort selector)
    {
        _selector = selector;
        _offset = 0;
        _current = _items.TryGetValue(selector, out var item) ? item : [];
    }

    // After an item is replaced the selection must follow it, keeping the read position.
    private void Reselect()
    {
        int offset = _offset;
        Select(_selector);
        _offset = offset;
    }

    private void RebuildFileDirectory()
    {
        // Big-endian throughout, unlike every other item: the layout is QEMU's FWCfgFiles.
        var dir = new byte[4 + _files.Count * FileDirEntryLength];
        BinaryPrimitives.WriteUInt32BigEndian(dir, (uint)_files.Count);
        for (int i = 0; i < _files.Count; i++)
        {
            var entry = dir.AsSpan(4 + i * FileDirEntryLength, FileDirEntryLength);
            BinaryPrimitives.WriteUInt32BigEndian(entry, (uint)_files[i].Size);
            BinaryPrimitives.WriteUInt16BigEndian(entry[4..], _files[i].Key);
            Encoding.UTF8.GetBytes(_files[i].Name, entry[8..]); // reserved u16 and the NUL padding stay 0
        }
        _items[FileDirKey] = dir;
    }

    private static byte[] LittleEndian32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] LittleEndian64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }
}
