using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// A 16550A UART as PC guests drive it (COM1 at 0x3F8). Registers follow Linux's
/// <c>serial_reg.h</c> and QEMU's <c>hw/char/serial.c</c>. The line is infinitely fast:
/// a byte written to THR is transmitted at once, so LSR always shows THRE and TEMT and a
/// polling guest never waits. Output is batched for the sink (see <see cref="Flush"/>); input
/// arrives through <see cref="EnqueueReceive"/> from any thread. Interrupt state (IER, IIR and the
/// pending THRE interrupt) is kept exact so an interrupt controller can be attached later through
/// <see cref="InterruptAsserted"/>.
/// </summary>
public sealed class Uart16550 : IPortDevice
{
    public const ushort Com1Port = 0x3F8;
    public const int PortCount = 8;
    public const int DefaultReceiveCapacity = 64 * 1024;
    public const int DefaultTransmitBatch = 256;

    private const int DataRegister = 0;
    private const int InterruptEnableRegister = 1;
    private const int InterruptIdRegister = 2;
    private const int LineControlRegister = 3;
    private const int ModemControlRegister = 4;
    private const int LineStatusRegister = 5;
    private const int ModemStatusRegister = 6;
    private const int ScratchRegister = 7;

    private const byte IerReceivedData = 0x01;
    private const byte IerTransmitEmpty = 0x02;
    private const byte IerLineStatus = 0x04;
    private const byte IerModemStatus = 0x08;

    private const byte IirNoInterrupt = 0x01;
    private const byte IirModemStatus = 0x00;
    private const byte IirTransmitEmpty = 0x02;
    private const byte IirReceivedData = 0x04;
    private const byte IirLineStatus = 0x06;
    private const byte IirFifosEnabled = 0xC0;

    private const byte FcrEnable = 0x01;
    private const byte FcrClearReceive = 0x02;
    private const byte FcrStoredBits = 0xC9; // enable, DMA mode, trigger level

    private const byte LcrDivisorLatchAccess = 0x80;

    private const byte McrDtr = 0x01;
    private const byte McrRts = 0x02;
    private const byte McrOut1 = 0x04;
    private const byte McrOut2 = 0x08;
    private const byte McrLoopback = 0x10;
    private const byte McrWritableBits = 0x1F;

    private const byte LsrDataReady = 0x01;
    private const byte LsrOverrun = 0x02;
    private const byte LsrTransmitHoldingEmpty = 0x20;
    private const byte LsrTransmitterEmpty = 0x40;

    private const byte MsrDeltaCts = 0x01;
    private const byte MsrDeltaDsr = 0x02;
    private const byte MsrTrailingEdgeRi = 0x04;
    private const byte MsrDeltaDcd = 0x08;
    private const byte MsrCts = 0x10;
    private const byte MsrDsr = 0x20;
    private const byte MsrRi = 0x40;
    private const byte MsrDcd = 0x80;

    // With nothing attached, QEMU reports carrier, data-set-ready and clear-to-send: a console
    // that is always there and always ready.
    private const byte ExternalModemLines = MsrDcd | MsrDsr | MsrCts;

    private readonly Lock _lock = new();
    private readonly ISerialTransmitSink? _sink;
    private readonly byte[] _transmitBuffer;
    private readonly byte[] _receiveQueue;

    private int _transmitCount;
    private int _receiveHead;
    private int _receiveCount;

    private byte _interruptEnable;
    private byte _lineControl;
    private byte _modemControl;
    private byte _scratch;
    private byte _divisorLow = 0x0C; // 9600 baud, QEMU's reset value
    private byte _divisorHigh;
    private byte _fifoControl;
    private byte _lineStatusErrors;
    private byte _modemStatusDeltas;
    private bool _transmitInterruptPending;
    private byte _lastReceived;
    private bool _previousAccessReadLineStatus;
    private long _transmittedBytes;
    private long _receiveOverruns;

    /// <param name="sink">Receives transmitted bytes; null discards them.</param>
    /// <param name="basePort">First of the eight ports (0x3F8 for COM1, 0x2F8 for COM2).</param>
    /// <param name="transmitBatch">Bytes buffered before the sink is called regardless of content.</param>
    /// <param name="receiveCapacity">Bytes of input held before further input overruns.</param>
    public Uart16550(ISerialTransmitSink? sink = null, ushort basePort = Com1Port, int transmitBatch = DefaultTransmitBatch, int receiveCapacity = DefaultReceiveCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(transmitBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(receiveCapacity, 1);
        _sink = sink;
        BasePort = basePort;
        _transmitBuffer = new byte[transmitBatch];
        _receiveQueue = new byte[receiveCapacity];
    }

    private bool _irqLevel;

    public ushort BasePort { get; }

    /// <summary>Bytes the guest has transmitted (not counting loopback).</summary>
    public long TransmittedBytes
    {
        get { lock (_lock) return _transmittedBytes; }
    }

    /// <summary>Received bytes dropped because the receive queue was full (each sets LSR.OE).</summary>
    public long ReceiveOverruns
    {
        get { lock (_lock) return _receiveOverruns; }
    }

    /// <summary>Bytes waiting in the receive queue.</summary>
    public int PendingReceiveBytes
    {
        get { lock (_lock) return _receiveCount; }
    }

    /// <summary>
    /// The level of the UART's IRQ line: an interrupt is pending and MCR.OUT2 connects it to the
    /// PIC, as on PC boards. In loopback OUT2 is looped back internally, so the line stays low.
    /// </summary>
    public bool InterruptAsserted
    {
        get
        {
            lock (_lock)
                return LineLevel();
        }
    }

    /// <summary>
    /// The interrupt line (IRQ 4 for COM1) this UART drives; it follows <see cref="InterruptAsserted"/>
    /// after every register access and every byte of input. Set while the machine is built.
    /// </summary>
    public IInterruptLine? Irq { get; set; }

    /// <summary>Divisor latch value: baud = 115200 / divisor. Nothing here depends on it; guests only expect it to read back.</summary>
    public int Divisor
    {
        get { lock (_lock) return _divisorLow | (_divisorHigh << 8); }
    }

    public uint Read(ushort port, int size)
    {
        lock (_lock)
        {
            uint value = 0;
            for (int i = 0; i < size; i++)
            {
                // A wide access acts as consecutive byte accesses, as on the 8-bit ISA bus the chip sits on.
                int offset = port - BasePort + i;
                uint b = offset is >= 0 and < PortCount ? ReadRegister(offset) : 0xFFu;
                value |= b << (8 * i);
            }
            SyncIrq();
            return value;
        }
    }

    public void Write(ushort port, int size, uint value)
    {
        lock (_lock)
        {
            for (int i = 0; i < size; i++)
            {
                int offset = port - BasePort + i;
                if (offset is >= 0 and < PortCount)
                    WriteRegister(offset, (byte)(value >> (8 * i)));
            }
            SyncIrq();
        }
    }

    /// <summary>
    /// Queues input for the guest; callable from any thread. Bytes that do not fit are dropped
    /// and flagged as an overrun, as a real FIFO would. Returns how many bytes were queued.
    /// </summary>
    public int EnqueueReceive(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            int accepted = 0;
            foreach (byte b in data)
            {
                if (Receive(b))
                    accepted++;
            }
            SyncIrq();
            return accepted;
        }
    }

    /// <summary>
    /// Hands buffered output to the sink. The UART flushes by itself on a newline, a full batch,
    /// a read of RBR, and when the guest polls LSR twice in a row (it is waiting, not sending).
    /// Call this when the guest stops, or from a timer, for output that ended otherwise.
    /// </summary>
    public void Flush()
    {
        lock (_lock)
            FlushTransmit();
    }

    private bool LineLevel() => (_modemControl & (McrOut2 | McrLoopback)) == McrOut2 && CurrentInterrupt() != IirNoInterrupt;

    // Called with the lock held: the line's own locks (PIC, IOAPIC) never call back into the UART.
    private void SyncIrq()
    {
        bool level = LineLevel();
        if (level == _irqLevel)
            return;
        _irqLevel = level;
        Irq?.SetLevel(level);
    }

    public Uart16550State SaveState()
    {
        lock (_lock)
        {
            var queue = new byte[_receiveCount];
            for (int i = 0; i < _receiveCount; i++)
                queue[i] = _receiveQueue[(_receiveHead + i) % _receiveQueue.Length];
            return new Uart16550State(
                _interruptEnable, _lineControl, _modemControl, _scratch, _divisorLow, _divisorHigh, _fifoControl,
                _lineStatusErrors, _modemStatusDeltas, _transmitInterruptPending, _lastReceived, queue);
        }
    }

    /// <summary>Why <paramref name="state"/> cannot be restored into this UART, or null: lets a machine check every part before it changes any.</summary>
    public string? FindRestoreProblem(Uart16550State state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.ReceiveQueue is null)
            return "the saved receive queue is null";
        if (state.ReceiveQueue.Length > _receiveQueue.Length)
            return $"saved receive queue holds {state.ReceiveQueue.Length} bytes, more than this UART's capacity of {_receiveQueue.Length}";
        return null;
    }

    public void RestoreState(Uart16550State state)
    {
        if (FindRestoreProblem(state) is string problem)
            throw new ArgumentException(problem, nameof(state));
        lock (_lock)
        {
            FlushTransmit();
            _interruptEnable = (byte)(state.InterruptEnable & 0x0F);
            _lineControl = state.LineControl;
            _modemControl = (byte)(state.ModemControl & McrWritableBits);
            _scratch = state.Scratch;
            _divisorLow = state.DivisorLow;
            _divisorHigh = state.DivisorHigh;
            _fifoControl = (byte)(state.FifoControl & FcrStoredBits);
            _lineStatusErrors = (byte)(state.LineStatusErrors & LsrOverrun);
            _modemStatusDeltas = (byte)(state.ModemStatusDeltas & 0x0F);
            _transmitInterruptPending = state.TransmitInterruptPending;
            _lastReceived = state.LastReceived;
            state.ReceiveQueue.CopyTo(_receiveQueue, 0);
            _receiveHead = 0;
            _receiveCount = state.ReceiveQueue.Length;
            SyncIrq();
            _previousAccessReadLineStatus = false;
        }
    }

    private bool DivisorLatchAccess => (_lineControl & LcrDivisorLatchAccess) != 0;

    private bool Loopback => (_modemControl & McrLoopback) != 0;

    private byte ReadRegister(int offset)
    {
        bool polling = _previousAccessReadLineStatus;
        _previousAccessReadLineStatus = false;
        switch (offset)
        {
            case DataRegister:
                if (DivisorLatchAccess)
                    return _divisorLow;
                // The guest wants input: whatever it printed before (a prompt) must be visible.
                FlushTransmit();
                if (_receiveCount > 0)
                {
                    _lastReceived = _receiveQueue[_receiveHead];
                    _receiveHead = (_receiveHead + 1) % _receiveQueue.Length;
                    _receiveCount--;
                }
                return _lastReceived;
            case InterruptEnableRegister:
                return DivisorLatchAccess ? _divisorHigh : _interruptEnable;
            case InterruptIdRegister:
                byte id = CurrentInterrupt();
                // Reading IIR while it reports THRE is what acknowledges that interrupt.
                if (id == IirTransmitEmpty)
                    _transmitInterruptPending = false;
                return (byte)(id | ((_fifoControl & FcrEnable) != 0 ? IirFifosEnabled : 0));
            case LineControlRegister:
                return _lineControl;
            case ModemControlRegister:
                return _modemControl;
            case LineStatusRegister:
                if (polling)
                    FlushTransmit();
                _previousAccessReadLineStatus = true;
                byte status = (byte)(LsrTransmitHoldingEmpty | LsrTransmitterEmpty | _lineStatusErrors);
                if (_receiveCount > 0)
                    status |= LsrDataReady;
                _lineStatusErrors = 0;
                return status;
            case ModemStatusRegister:
                byte modemStatus = (byte)(ModemLines() | _modemStatusDeltas);
                _modemStatusDeltas = 0;
                return modemStatus;
            default:
                return _scratch;
        }
    }

    private void WriteRegister(int offset, byte value)
    {
        _previousAccessReadLineStatus = false;
        switch (offset)
        {
            case DataRegister:
                if (DivisorLatchAccess)
                    _divisorLow = value;
                else
                    Transmit(value);
                break;
            case InterruptEnableRegister:
                if (DivisorLatchAccess)
                {
                    _divisorHigh = value;
                    break;
                }
                byte enabled = (byte)(value & 0x0F);
                // Enabling the THRE interrupt while THR is empty (always, here) raises it at once.
                if ((enabled & IerTransmitEmpty) != 0 && (_interruptEnable & IerTransmitEmpty) == 0)
                    _transmitInterruptPending = true;
                _interruptEnable = enabled;
                break;
            case InterruptIdRegister:
                // Writes here are FCR. Toggling the FIFO enable clears the FIFOs, as on the chip.
                if (((value ^ _fifoControl) & FcrEnable) != 0 || (value & FcrClearReceive) != 0)
                {
                    _receiveHead = 0;
                    _receiveCount = 0;
                }
                _fifoControl = (byte)(value & FcrStoredBits);
                break;
            case LineControlRegister:
                _lineControl = value;
                break;
            case ModemControlRegister:
                byte before = ModemLines();
                _modemControl = (byte)(value & McrWritableBits);
                RecordModemLineChanges(before, ModemLines());
                break;
            case LineStatusRegister:
            case ModemStatusRegister:
                break; // factory-test writes; a guest has no business here
            default:
                _scratch = value;
                break;
        }
    }

    private void Transmit(byte value)
    {
        if (Loopback)
        {
            Receive(value);
        }
        else
        {
            _transmitBuffer[_transmitCount++] = value;
            _transmittedBytes++;
            if (value == (byte)'\n' || _transmitCount == _transmitBuffer.Length)
                FlushTransmit();
        }
        // THR empties at once, so writing it re-arms the THRE interrupt immediately.
        _transmitInterruptPending = true;
    }

    private bool Receive(byte value)
    {
        if (_receiveCount == _receiveQueue.Length)
        {
            _lineStatusErrors |= LsrOverrun;
            _receiveOverruns++;
            return false;
        }
        _receiveQueue[(_receiveHead + _receiveCount) % _receiveQueue.Length] = value;
        _receiveCount++;
        return true;
    }

    private void FlushTransmit()
    {
        if (_transmitCount == 0)
            return;
        int count = _transmitCount;
        _transmitCount = 0;
        _sink?.Transmit(_transmitBuffer.AsSpan(0, count));
    }

    /// <summary>The highest-priority pending interrupt as IIR encodes it (16550 data sheet, table 4).</summary>
    private byte CurrentInterrupt()
    {
        if ((_interruptEnable & IerLineStatus) != 0 && _lineStatusErrors != 0)
            return IirLineStatus;
        if ((_interruptEnable & IerReceivedData) != 0 && _receiveCount > 0)
            return IirReceivedData;
        if ((_interruptEnable & IerTransmitEmpty) != 0 && _transmitInterruptPending)
            return IirTransmitEmpty;
        if ((_interruptEnable & IerModemStatus) != 0 && _modemStatusDeltas != 0)
            return IirModemStatus;
        return IirNoInterrupt;
    }

    /// <summary>MSR bits 7:4. In loopback they mirror MCR (OUT2→DCD, OUT1→RI, RTS→CTS, DTR→DSR), which Linux's probe checks.</summary>
    private byte ModemLines()
    {
        if (!Loopback)
            return ExternalModemLines;
        byte lines = 0;
        if ((_modemControl & McrDtr) != 0) lines |= MsrDsr;
        if ((_modemControl & McrRts) != 0) lines |= MsrCts;
        if ((_modemControl & McrOut1) != 0) lines |= MsrRi;
        if ((_modemControl & McrOut2) != 0) lines |= MsrDcd;
        return lines;
    }

    private void RecordModemLineChanges(byte before, byte after)
    {
        byte changed = (byte)(before ^ after);
        if ((changed & MsrCts) != 0) _modemStatusDeltas |= MsrDeltaCts;
        if ((changed & MsrDsr) != 0) _modemStatusDeltas |= MsrDeltaDsr;
        if ((before & MsrRi) != 0 && (after & MsrRi) == 0) _modemStatusDeltas |= MsrTrailingEdgeRi;
        if ((changed & MsrDcd) != 0) _modemStatusDeltas |= MsrDeltaDcd;
    }
}
