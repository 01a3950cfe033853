using Actors.HwBackend.Devices.Apic;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// The PC/AT pair of 8259A interrupt controllers: master at 0x20/0x21 serving IRQ 0-7, slave at
/// 0xA0/0xA1 serving IRQ 8-15 and cascaded into the master's IR2, plus the EISA edge/level control
/// registers (ELCR) at 0x4D0/0x4D1. Behaviour follows the Intel 8259A data sheet; where the data
/// sheet leaves room, QEMU's <c>hw/intc/i8259.c</c> is what guests have been tested against.
/// Any guest write sequence is accepted: a malformed one leaves odd state, never an exception.
/// </summary>
public sealed class Pic8259Pair : IPortDevice, IExternalInterruptSource
{
    public const ushort MasterCommandPort = 0x20;
    public const ushort MasterDataPort = 0x21;
    public const ushort SlaveCommandPort = 0xA0;
    public const ushort SlaveDataPort = 0xA1;
    public const ushort MasterElcrPort = 0x4D0;
    public const ushort SlaveElcrPort = 0x4D1;
    public const int CascadeIrq = 2;

    // IRQ 0-2 (timer, keyboard, cascade) and IRQ 8, 13 (RTC, FPU) are wired edge on every PC
    // chipset, so their ELCR bits are hard-wired to zero (PIIX4 data sheet).
    private const byte MasterElcrWritable = 0xF8;
    private const byte SlaveElcrWritable = 0xDE;

    private readonly Lock _lock = new();
    private readonly Chip _master = new(MasterElcrWritable);
    private readonly Chip _slave = new(SlaveElcrWritable);
    private readonly Line[] _lines;
    private readonly IInterruptAcknowledgeListener?[] _listeners = new IInterruptAcknowledgeListener?[16];

    // INTR as of the last change, which every change computes under the lock: the processor asks after every
    // STI, POPF and IRET while LINT0 routes the 8259 (as firmware leaves it), and needs no lock for it.
    private volatile bool _intr;

    public Pic8259Pair()
    {
        // Built once so handing a line to a device, and every later pulse on it, allocates nothing.
        _lines = new Line[16];
        for (int i = 0; i < _lines.Length; i++)
            _lines[i] = new Line(this, i);
    }

    /// <summary>
    /// True when the master has an unmasked request of higher priority than everything it has in
    /// service: the level of the INTR pin into the CPU.
    /// </summary>
    public bool InterruptPending => _intr;

    /// <summary>
    /// Called after an input change, a guest write or a restore leaves INTR asserted, outside the
    /// PIC's lock, so the machine can make the processor look (it acknowledges through
    /// <see cref="Acknowledge"/>). Set while the machine is built.
    /// </summary>
    public Action? InterruptRaised { get; set; }

    /// <summary>An <see cref="IInterruptLine"/> driving input <paramref name="irq"/>, for wiring devices.</summary>
    public IInterruptLine GetLine(int irq)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(irq);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(irq, 15);
        return _lines[irq];
    }

    /// <summary>Sets the level of input line <paramref name="irq"/> (0-15).</summary>
    public void SetIrq(int irq, bool level)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(irq);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(irq, 15);
        bool raised;
        lock (_lock)
        {
            if (irq < 8)
                _master.SetInput(irq, level);
            else
                _slave.SetInput(irq - 8, level);
            UpdateCascade();
            raised = UpdateIntrLocked() && level;
        }
        if (raised)
            InterruptRaised?.Invoke();
    }

    /// <summary>
    /// The CPU's interrupt-acknowledge cycle: returns the vector and moves the request from IRR to
    /// ISR. With nothing left to deliver (the request went away, or was masked, after INTR was
    /// seen) the chip answers with its IR7 vector and sets no ISR bit: the spurious interrupt.
    /// </summary>
    public byte Acknowledge()
    {
        byte vector;
        int acknowledged, unmasked;
        lock (_lock)
        {
            int irq = _master.HighestRequest();
            if (irq < 0)
            {
                vector = (byte)(_master.VectorBase + 7);
            }
            else
            {
                if (irq == CascadeIrq && !_master.SingleMode)
                {
                    int slaveIrq = _slave.HighestRequest();
                    if (slaveIrq >= 0)
                    {
                        vector = (byte)(_slave.VectorBase + slaveIrq);
                        _slave.Acknowledge(slaveIrq);
                    }
                    else
                    {
                        // The master saw IR2 but the slave's request is gone: spurious IRQ 15.
                        // The master still puts IR2 in service, so the guest must EOI it there.
                        vector = (byte)(_slave.VectorBase + 7);
                    }
                }
                else
                {
                    vector = (byte)(_master.VectorBase + irq);
                }
                _master.Acknowledge(irq);
            }
            UpdateCascade();
            UpdateIntrLocked();
            (acknowledged, unmasked) = TakeFeedback();
        }
        Notify(acknowledged, unmasked);
        return vector;
    }

    /// <summary>
    /// Registers the device behind input <paramref name="irq"/> for its INTA cycles and unmasks
    /// (null removes it); <see cref="GetLine"/>'s lines do this for the device that drives them.
    /// </summary>
    public void SetAcknowledgeListener(int irq, IInterruptAcknowledgeListener? listener)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(irq);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(irq, 15);
        lock (_lock)
            _listeners[irq] = listener;
    }

    public uint Read(ushort port, int size)
    {
        uint value = 0;
        int acknowledged, unmasked;
        lock (_lock)
        {
            for (int i = 0; i < size; i++)
            {
                // Wide accesses act as consecutive byte accesses, as on the 8-bit ISA bus.
                value |= (uint)ReadByte(port + i) << (8 * i);
            }
            // A poll read is an acknowledge.
            UpdateIntrLocked();
            (acknowledged, unmasked) = TakeFeedback();
        }
        Notify(acknowledged, unmasked);
        return value;
    }

    public void Write(ushort port, int size, uint value)
    {
        bool pending;
        int acknowledged, unmasked;
        lock (_lock)
        {
            for (int i = 0; i < size; i++)
                WriteByte(port + i, (byte)(value >> (8 * i)));
            pending = UpdateIntrLocked();
            (acknowledged, unmasked) = TakeFeedback();
        }
        Notify(acknowledged, unmasked);
        // An unmask or an EOI can expose a request that was waiting.
        if (pending)
            InterruptRaised?.Invoke();
    }

    public Pic8259State SaveState()
    {
        lock (_lock)
            return new Pic8259State(_master.Save(), _slave.Save());
    }

    public void RestoreState(Pic8259State state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(state.Master);
        ArgumentNullException.ThrowIfNull(state.Slave);
        bool pending;
        lock (_lock)
        {
            _master.Restore(state.Master);
            _slave.Restore(state.Slave);
            UpdateCascade();
            // Restored devices carry their own backlog state; nothing is news to them.
            _ = TakeFeedback();
            pending = UpdateIntrLocked();
        }
        if (pending)
            InterruptRaised?.Invoke();
    }

    private byte ReadByte(int port)
    {
        byte value;
        switch (port)
        {
            case MasterCommandPort:
            case MasterDataPort:
                value = _master.Read(port & 1);
                break;
            case SlaveCommandPort:
            case SlaveDataPort:
                value = _slave.Read(port & 1);
                break;
            case MasterElcrPort:
                return _master.Elcr;
            case SlaveElcrPort:
                return _slave.Elcr;
            default:
                return 0xFF;
        }
        // A poll read acknowledges, which can change what the slave presents to the master.
        UpdateCascade();
        return value;
    }

    private void WriteByte(int port, byte value)
    {
        switch (port)
        {
            case MasterCommandPort:
            case MasterDataPort:
                _master.Write(port & 1, value);
                break;
            case SlaveCommandPort:
            case SlaveDataPort:
                _slave.Write(port & 1, value);
                break;
            case MasterElcrPort:
                _master.SetElcr(value);
                break;
            case SlaveElcrPort:
                _slave.SetElcr(value);
                break;
            default:
                return;
        }
        UpdateCascade();
    }

    /// <summary>The slave's INT output is the master's IR2 input; recompute it after every slave change.</summary>
    private void UpdateCascade() => _master.SetInput(CascadeIrq, _slave.HighestRequest() >= 0);

    /// <summary>Recomputes INTR (<see cref="InterruptPending"/>) after a change; returns it.</summary>
    private bool UpdateIntrLocked() => _intr = _master.HighestRequest() >= 0;

    /// <summary>
    /// Inputs acknowledged and unmasked since the last call, bit n for IRQ n. The master's IR2 is
    /// the cascade, not a device, so only the slave's bits speak for IRQ 8-15.
    /// </summary>
    private (int Acknowledged, int Unmasked) TakeFeedback()
    {
        int cascade = 1 << CascadeIrq;
        int acknowledged = (_master.TakeAcknowledged() & ~cascade) | (_slave.TakeAcknowledged() << 8);
        int unmasked = (_master.TakeUnmasked() & ~cascade) | (_slave.TakeUnmasked() << 8);
        return (acknowledged, unmasked);
    }

    /// <summary>Tells the listeners of the given inputs; outside the lock, since they drive their lines at once.</summary>
    private void Notify(int acknowledged, int unmasked)
    {
        if ((acknowledged | unmasked) == 0)
            return;
        for (int irq = 0; irq < _listeners.Length; irq++)
        {
            var listener = Volatile.Read(ref _listeners[irq]);
            if (listener is null)
                continue;
            if ((unmasked & (1 << irq)) != 0)
                listener.Unmasked();
            if ((acknowledged & (1 << irq)) != 0)
                listener.Acknowledged();
        }
    }

    private sealed class Line(Pic8259Pair owner, int irq) : IAcknowledgingInterruptLine
    {
        public void SetLevel(bool asserted) => owner.SetIrq(irq, asserted);

        public void SetAcknowledgeListener(IInterruptAcknowledgeListener? listener) => owner.SetAcknowledgeListener(irq, listener);
    }

    /// <summary>One 8259A. Not thread-safe: the pair's lock covers it.</summary>
    private sealed class Chip(byte elcrWritable)
    {
        private const int NoPriority = 8;

        private byte _lineLevels;
        private byte _irr;
        private byte _imr;
        private byte _isr;
        private byte _lowestPriorityOffset; // IR number that currently has the highest priority
        private bool _readIsr;
        private bool _poll;
        private bool _specialMask;
        private int _initStep;
        private bool _icw4Expected;
        private bool _autoEoi;
        private bool _rotateOnAutoEoi;
        private bool _specialFullyNested;
        private bool _mode8086;
        private byte _acknowledged; // IRs acknowledged since TakeAcknowledged (not state: consumed under the same lock)
        private byte _unmasked;     // IRs unmasked or reinitialised since TakeUnmasked

        public byte VectorBase { get; private set; }

        public bool SingleMode { get; private set; }

        public byte Elcr { get; private set; }

        public void SetInput(int irq, bool level)
        {
            byte mask = (byte)(1 << irq);
            if ((Elcr & mask) != 0)
            {
                // Level-triggered: IRR follows the line, so a request withdrawn before INTA is gone.
                _irr = level ? (byte)(_irr | mask) : (byte)(_irr & ~mask);
            }
            else if (level && (_lineLevels & mask) == 0)
            {
                // Edge-triggered: only the rising edge latches; the request stays until acknowledged.
                _irr |= mask;
            }
            _lineLevels = level ? (byte)(_lineLevels | mask) : (byte)(_lineLevels & ~mask);
        }

        public void SetElcr(byte value)
        {
            Elcr = (byte)(value & elcrWritable);
            // Lines switched to level mode take their request from the current line level.
            _irr = (byte)((_irr & ~Elcr) | (_lineLevels & Elcr));
        }

        /// <summary>The IR that would be delivered now, or -1: the highest-priority unmasked request beating everything in service.</summary>
        public int HighestRequest()
        {
            int request = Priority((byte)(_irr & ~_imr));
            if (request == NoPriority)
                return -1;
            byte inService = _isr;
            // Special mask mode lets masked in-service levels stop blocking lower priorities.
            if (_specialMask)
                inService &= (byte)~_imr;
            // Special fully nested mode (master only, for cascades) lets the slave interrupt a
            // slave handler with a higher-priority slave request while IR2 is in service.
            if (_specialFullyNested)
                inService &= unchecked((byte)~(1 << CascadeIrq));
            if (request < Priority(inService))
                return (request + _lowestPriorityOffset) & 7;
            return -1;
        }

        public byte TakeAcknowledged()
        {
            byte value = _acknowledged;
            _acknowledged = 0;
            return value;
        }

        public byte TakeUnmasked()
        {
            byte value = _unmasked;
            _unmasked = 0;
            return value;
        }

        public void Acknowledge(int irq)
        {
            byte mask = (byte)(1 << irq);
            _acknowledged |= mask;
            if (_autoEoi)
            {
                if (_rotateOnAutoEoi)
                    _lowestPriorityOffset = (byte)((irq + 1) & 7);
            }
            else
            {
                _isr |= mask;
            }
            // A level-triggered request stays as long as the device holds the line.
            if ((Elcr & mask) == 0)
                _irr &= (byte)~mask;
        }

        public byte Read(int address)
        {
            if (_poll)
            {
                // Poll command: the next read returns 0x80 | level and acknowledges it.
                _poll = false;
                int irq = HighestRequest();
                if (irq < 0)
                    return 0;
                Acknowledge(irq);
                return (byte)(0x80 | irq);
            }
            if (address == 1)
                return _imr;
            return _readIsr ? _isr : _irr;
        }

        public void Write(int address, byte value)
        {
            if (address == 0)
            {
                if ((value & 0x10) != 0)
                    Icw1(value);
                else if ((value & 0x08) != 0)
                    Ocw3(value);
                else
                    Ocw2(value);
                return;
            }
            switch (_initStep)
            {
                case 1:
                    // ICW2: in 8086 mode the low three bits come from the IR number.
                    VectorBase = (byte)(value & 0xF8);
                    _initStep = SingleMode ? (_icw4Expected ? 3 : 0) : 2;
                    break;
                case 2:
                    // ICW3 describes the cascade wiring, which is fixed on a PC: accepted and ignored.
                    _initStep = _icw4Expected ? 3 : 0;
                    break;
                case 3:
                    _mode8086 = (value & 0x01) != 0;
                    _autoEoi = (value & 0x02) != 0;
                    _specialFullyNested = (value & 0x10) != 0;
                    _initStep = 0;
                    break;
                default:
                    _unmasked |= (byte)(_imr & ~value);
                    _imr = value;
                    break;
            }
        }

        public Pic8259ChipState Save() => new(
            _lineLevels, _irr, _imr, _isr, _lowestPriorityOffset, VectorBase, _readIsr, _poll, _specialMask,
            _initStep, _icw4Expected, SingleMode, _autoEoi, _rotateOnAutoEoi, _specialFullyNested, _mode8086, Elcr);

        public void Restore(Pic8259ChipState s)
        {
            _lineLevels = s.LineLevels;
            _irr = s.Irr;
            _imr = s.Imr;
            _isr = s.Isr;
            _lowestPriorityOffset = (byte)(s.LowestPriorityOffset & 7);
            VectorBase = (byte)(s.VectorBase & 0xF8);
            _readIsr = s.ReadIsr;
            _poll = s.Poll;
            _specialMask = s.SpecialMask;
            _initStep = s.InitStep is >= 0 and <= 3 ? s.InitStep : 0;
            _icw4Expected = s.Icw4Expected;
            SingleMode = s.SingleMode;
            _autoEoi = s.AutoEoi;
            _rotateOnAutoEoi = s.RotateOnAutoEoi;
            _specialFullyNested = s.SpecialFullyNested;
            _mode8086 = s.Mode8086;
            Elcr = (byte)(s.Elcr & elcrWritable);
        }

        private void Icw1(byte value)
        {
            // The data sheet's ICW1 side effects: IMR cleared, IR7 lowest priority, special mask
            // off, status read selects IRR, and with IC4 = 0 every ICW4 function is zero. Edge
            // latches are reset; level requests still reflect their lines. Like QEMU, the
            // remembered level of edge lines is forgotten too, so a line still high (above all the
            // slave's output into IR2) latches again when next driven instead of being lost.
            _irr = (byte)(_lineLevels & Elcr);
            _lineLevels &= Elcr;
            _imr = 0;
            // Every input is open again and every edge latch forgotten.
            _unmasked = 0xFF;
            _isr = 0;
            _lowestPriorityOffset = 0;
            _readIsr = false;
            _poll = false;
            _specialMask = false;
            _autoEoi = false;
            _rotateOnAutoEoi = false;
            _specialFullyNested = false;
            _mode8086 = false;
            _icw4Expected = (value & 0x01) != 0;
            SingleMode = (value & 0x02) != 0;
            // Bit 3 (LTIM) is overridden by ELCR on EISA-style chipsets, as on every PC since.
            _initStep = 1;
        }

        private void Ocw2(byte value)
        {
            int irq;
            switch (value >> 5)
            {
                case 0: // rotate in automatic EOI mode (clear)
                case 4: // rotate in automatic EOI mode (set)
                    _rotateOnAutoEoi = value >> 7 != 0;
                    break;
                case 1: // non-specific EOI
                case 5: // rotate on non-specific EOI
                    int priority = Priority(_isr);
                    if (priority == NoPriority)
                        break;
                    irq = (priority + _lowestPriorityOffset) & 7;
                    _isr &= (byte)~(1 << irq);
                    if (value >> 5 == 5)
                        _lowestPriorityOffset = (byte)((irq + 1) & 7);
                    break;
                case 3: // specific EOI
                case 7: // rotate on specific EOI
                    irq = value & 7;
                    _isr &= (byte)~(1 << irq);
                    if (value >> 5 == 7)
                        _lowestPriorityOffset = (byte)((irq + 1) & 7);
                    break;
                case 6: // set priority: the named IR becomes the lowest
                    _lowestPriorityOffset = (byte)(((value & 7) + 1) & 7);
                    break;
                default: // 2: no operation
                    break;
            }
        }

        private void Ocw3(byte value)
        {
            if ((value & 0x04) != 0)
                _poll = true;
            if ((value & 0x02) != 0)
                _readIsr = (value & 0x01) != 0;
            if ((value & 0x40) != 0)
                _specialMask = (value & 0x20) != 0;
        }

        /// <summary>Rank (0 = highest) of the highest-priority bit set in <paramref name="bits"/>, or 8 when none is.</summary>
        private int Priority(byte bits)
        {
            if (bits == 0)
                return NoPriority;
            int rank = 0;
            while ((bits & (1 << ((rank + _lowestPriorityOffset) & 7))) == 0)
                rank++;
            return rank;
        }
    }
}
