using Actors.HwBackend.Memory;

namespace Actors.HwBackend.Enlightenments;

/// <summary>
/// One VP's synthetic interrupt controller (TLFS, "SynIC"): SCONTROL, the message page (SIMP),
/// the event flags page (SIEFP), sixteen SINTs and EOM. The host posts messages into the SINT's
/// slot of the message page and sets event flags in the SINT's 2048 bits of the event page; either
/// then raises the SINT's vector at the VP's local APIC (unless the SINT is masked: the guest polls).
/// A slot holds one message: while the guest has not consumed it, further messages wait here, in
/// order, and the occupant gets its MessagePending flag so the guest writes EOM when it empties the
/// slot. Both pages are guest RAM, updated the way another processor would update them. Host
/// threads and the VP's thread call in concurrently, so everything is under one lock; the APIC is
/// called outside it.
/// </summary>
public sealed unsafe class SyntheticInterruptController
{
    public const int SintCount = 16;

    /// <summary>Messages that may wait for one SINT's slot; more are refused, so a guest that never
    /// empties its slots cannot make the host hold unbounded memory.</summary>
    public const int MaxWaitingPerSint = 16;

    public const int SlotBytes = 256;
    public const int MaxPayloadBytes = 240;

    private const ulong EnableBit = 1;
    private const ulong PageMask = ~0xFFFUL;
    private const ulong PreservedBits = 0xFFE;

    // SINTx: vector 7:0, masked 16, auto-EOI 17, polling 18 (a hint we need not act on).
    private const ulong SintVectorMask = 0xFF;
    private const ulong SintMasked = 1UL << 16;
    private const ulong SintAutoEoi = 1UL << 17;
    private const ulong SintWritableBits = SintVectorMask | SintMasked | SintAutoEoi | (1UL << 18);
    private const byte FirstValidVector = 16;

    // The message header: type @0, payload size @4, flags @5 (bit 0: message pending), sender @8, payload @16.
    private const uint MessagePendingInFlagsDword = 1u << 8;

    private readonly Lock _lock = new();
    private readonly GuestPhysicalMap _memory;
    private readonly ISintDelivery _delivery;
    private readonly ulong[] _sints = new ulong[SintCount];
    private readonly Queue<HvMessage>[] _waiting = new Queue<HvMessage>[SintCount];
    private ulong _control;
    private ulong _simp;

    // The message page in host memory while it is on: RAM (checked when it is set), which never moves.
    private byte* _simpHost;
    private ulong _siefp;

    public SyntheticInterruptController(GuestPhysicalMap memory, ISintDelivery delivery)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(delivery);
        _memory = memory;
        _delivery = delivery;
        for (int i = 0; i < SintCount; i++)
        {
            _sints[i] = SintMasked; // the reset value (observed on Hyper-V and KVM)
            _waiting[i] = new Queue<HvMessage>();
        }
    }

    public static bool OwnsMsr(uint index) => index is >= HvMsr.SControl and <= HvMsr.Eom or >= HvMsr.Sint0 and <= HvMsr.Sint15;

    /// <summary>Messages waiting for a slot, on all SINTs.</summary>
    public int WaitingMessages
    {
        get
        {
            lock (_lock)
                return _waiting.Sum(q => q.Count);
        }
    }

    public bool TryReadMsr(uint index, out ulong value)
    {
        lock (_lock)
        {
            value = index switch
            {
                HvMsr.SControl => _control,
                HvMsr.SVersion => 1,
                HvMsr.Siefp => _siefp,
                HvMsr.Simp => _simp,
                HvMsr.Eom => 0,
                >= HvMsr.Sint0 and <= HvMsr.Sint15 => _sints[index - HvMsr.Sint0],
                _ => ulong.MaxValue,
            };
            return value != ulong.MaxValue;
        }
    }

    public bool TryWriteMsr(uint index, ulong value)
    {
        Span<byte> raise = stackalloc byte[SintCount];
        int raised = 0;
        Span<ulong> autoEoi = stackalloc ulong[4];
        bool autoEoiChanged = false;
        lock (_lock)
        {
            switch (index)
            {
                case HvMsr.SControl:
                    _control = value;
                    break;
                case HvMsr.SVersion:
                    return false;
                case HvMsr.Siefp:
                    if (!TrySetPageLocked(ref _siefp, value))
                        return false;
                    break;
                case HvMsr.Simp:
                    if (!TrySetPageLocked(ref _simp, value))
                        return false;
                    _simpHost = SimpHostLocked();
                    break;
                case HvMsr.Eom:
                    // The guest emptied a slot that had a message waiting behind it: deliver what waits.
                    for (int sint = 0; sint < SintCount; sint++)
                        raised += DeliverWaitingLocked(sint, raise[raised..]);
                    break;
                case >= HvMsr.Sint0 and <= HvMsr.Sint15:
                    if ((value & ~SintWritableBits) != 0 || ((value & SintMasked) == 0 && (value & SintVectorMask) < FirstValidVector))
                        return false;
                    _sints[index - HvMsr.Sint0] = value;
                    AutoEoiVectorsLocked(autoEoi);
                    autoEoiChanged = true;
                    break;
                default:
                    return false;
            }
        }
        if (autoEoiChanged)
            _delivery.SetAutoEoiVectors(autoEoi);
        Raise(raise[..raised]);
        return true;
    }

    /// <summary>
    /// Posts a message to <paramref name="sint"/>: into its slot if the slot is empty, else behind
    /// the messages already waiting. False when the SynIC or its message page is off, or the SINT
    /// already has <see cref="MaxWaitingPerSint"/> messages waiting (the caller reports that to
    /// whoever sent it).
    /// </summary>
    public bool TryPostMessage(int sint, uint messageType, ulong sender, ReadOnlySpan<byte> payload)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)sint, (uint)SintCount, nameof(sint));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payload.Length, MaxPayloadBytes, nameof(payload));
        Span<byte> raise = stackalloc byte[1];
        int raised;
        lock (_lock)
        {
            if (!MessagesOnLocked() || _waiting[sint].Count >= MaxWaitingPerSint)
                return false;
            if (_waiting[sint].Count == 0 && Volatile.Read(ref *(uint*)(_simpHost + (sint * SlotBytes))) == HvMessageType.None)
            {
                // The usual case, an empty slot and nothing queued: straight in, without a copy to queue.
                raised = WriteSlotLocked(sint, messageType, sender, payload, more: false, raise);
            }
            else
            {
                _waiting[sint].Enqueue(new HvMessage(messageType, sender, payload.ToArray()));
                raised = DeliverWaitingLocked(sint, raise);
            }
        }
        Raise(raise[..raised]);
        return true;
    }

    /// <summary>
    /// Sets event flag <paramref name="flag"/> (0-2047) of <paramref name="sint"/> and raises the
    /// SINT if the flag was clear. False when the SynIC or its event page is off.
    /// </summary>
    public bool SignalEvent(int sint, int flag)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)sint, (uint)SintCount, nameof(sint));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)flag, (uint)(SlotBytes * 8), nameof(flag));
        byte vector;
        lock (_lock)
        {
            if ((_control & EnableBit) == 0 || (_siefp & EnableBit) == 0)
                return false;
            ulong dword = (_siefp & PageMask) + (ulong)(sint * SlotBytes) + (ulong)(flag / 32 * 4);
            uint bit = 1u << (flag % 32);
            if ((_memory.AtomicOr32(dword, bit) & bit) != 0 || !TryInterruptLocked(sint, out vector))
                return true;
        }
        _delivery.Deliver(vector);
        return true;
    }

    public SyntheticInterruptControllerState SaveState()
    {
        lock (_lock)
        {
            var waiting = new List<SyntheticInterruptControllerState.WaitingMessage>();
            for (int sint = 0; sint < SintCount; sint++)
            {
                foreach (HvMessage m in _waiting[sint])
                    waiting.Add(new(sint, m.Type, m.Sender, m.Payload));
            }
            return new SyntheticInterruptControllerState(_control, _simp, _siefp, (ulong[])_sints.Clone(), waiting);
        }
    }

    /// <summary>A problem that keeps <paramref name="state"/> from being restored here, or null.</summary>
    public string? FindRestoreProblem(SyntheticInterruptControllerState state)
    {
        if (state.Sints.Count != SintCount)
            return $"{state.Sints.Count} SINTs, not {SintCount}";
        foreach (ulong page in (ReadOnlySpan<ulong>)[state.Simp, state.Siefp])
        {
            if ((page & EnableBit) != 0 && !_memory.IsRam(page & PageMask, GuestRam.PageSize))
                return $"page 0x{page & PageMask:x} is not RAM";
        }
        foreach (var m in state.Waiting)
        {
            if ((uint)m.Sint >= SintCount || m.Payload.Length > MaxPayloadBytes || m.Type == HvMessageType.None)
                return $"a waiting message for SINT {m.Sint} of type {m.Type} with {m.Payload.Length} bytes is not one this SynIC could have taken";
            if (state.Waiting.Count(w => w.Sint == m.Sint) > MaxWaitingPerSint)
                return $"more than {MaxWaitingPerSint} messages wait for SINT {m.Sint}";
        }
        return null;
    }

    /// <summary>Takes a saved state (checked with <see cref="FindRestoreProblem"/>); the pages are in the restored RAM already.</summary>
    public void RestoreState(SyntheticInterruptControllerState state)
    {
        Span<ulong> autoEoi = stackalloc ulong[4];
        lock (_lock)
        {
            (_control, _simp, _siefp) = (state.Control, state.Simp, state.Siefp);
            _simpHost = SimpHostLocked();
            for (int i = 0; i < SintCount; i++)
            {
                _sints[i] = state.Sints[i];
                _waiting[i].Clear();
            }
            foreach (var m in state.Waiting)
                _waiting[m.Sint].Enqueue(new HvMessage(m.Type, m.Sender, m.Payload));
            AutoEoiVectorsLocked(autoEoi);
        }
        _delivery.SetAutoEoiVectors(autoEoi);
    }

    // _simpHost is set exactly while the message page is on and in RAM.
    private bool MessagesOnLocked() => (_control & EnableBit) != 0 && _simpHost != null;

    private byte* SimpHostLocked() => (_simp & EnableBit) != 0 ? _memory.TryGetRamPointer(_simp & PageMask) : null;

    /// <summary>A new overlay page starts out zeroed (TLFS); one outside RAM is refused.</summary>
    private bool TrySetPageLocked(ref ulong register, ulong value)
    {
        bool enable = (value & EnableBit) != 0;
        ulong page = value & PageMask;
        if (enable && !_memory.IsRam(page, GuestRam.PageSize))
            return false;
        bool newlyEnabled = enable && (register & (PageMask | EnableBit)) != (page | EnableBit);
        register = page | (value & PreservedBits) | (enable ? EnableBit : 0);
        if (newlyEnabled)
            _memory.Write(page, new byte[GuestRam.PageSize]);
        return true;
    }

    /// <summary>Moves waiting messages into the slot while it is empty; returns how many vectors to raise (0 or 1).</summary>
    private int DeliverWaitingLocked(int sint, Span<byte> raise)
    {
        Queue<HvMessage> waiting = _waiting[sint];
        if (waiting.Count == 0 || !MessagesOnLocked())
            return 0;
        ulong slot = SlotAddressLocked(sint);
        if (_memory.ReadValue<uint>(slot) != HvMessageType.None)
        {
            // Busy: ask for an EOM. The guest may have emptied the slot just before seeing the
            // flag, and then it writes no EOM, so look again once the flag is set.
            _memory.AtomicOr32(slot + 4, MessagePendingInFlagsDword);
            if (_memory.ReadValue<uint>(slot) != HvMessageType.None)
                return 0;
        }

        HvMessage message = waiting.Dequeue();
        return WriteSlotLocked(sint, message.Type, message.Sender, message.Payload, more: waiting.Count > 0, raise);
    }

    private ulong SlotAddressLocked(int sint) => (_simp & PageMask) + (ulong)(sint * SlotBytes);

    /// <summary>Writes a message into the (free) slot of <paramref name="sint"/>; returns 1 with the vector in <paramref name="raise"/> if the SINT is to be raised.</summary>
    private int WriteSlotLocked(int sint, uint type, ulong sender, ReadOnlySpan<byte> payload, bool more, Span<byte> raise)
    {
        ulong slot = SlotAddressLocked(sint);
        byte* host = _simpHost + (sint * SlotBytes);
        // Payload size, flags (more behind it: the guest must EOM), two reserved bytes; the sender; the payload.
        *(uint*)(host + 4) = (uint)payload.Length | (more ? 1u << 8 : 0);
        *(ulong*)(host + 8) = sender;
        payload.CopyTo(new Span<byte>(host + 16, payload.Length));
        // Everything but the type first, the type last: a guest polling the slot sees a whole message or none.
        Volatile.Write(ref *(uint*)host, type);
        _memory.NoteHostWrite(slot, 16 + (ulong)payload.Length);
        if (!TryInterruptLocked(sint, out byte vector))
            return 0;
        raise[0] = vector;
        return 1;
    }

    private bool TryInterruptLocked(int sint, out byte vector)
    {
        ulong value = _sints[sint];
        vector = (byte)(value & SintVectorMask);
        return (_control & EnableBit) != 0 && (value & SintMasked) == 0;
    }

    private void AutoEoiVectorsLocked(Span<ulong> vectors)
    {
        vectors.Clear();
        foreach (ulong sint in _sints)
        {
            if ((sint & (SintAutoEoi | SintMasked)) == SintAutoEoi)
                vectors[(int)(sint & 0xFF) / 64] |= 1UL << (int)(sint & 63);
        }
    }

    private void Raise(ReadOnlySpan<byte> vectors)
    {
        foreach (byte vector in vectors)
            _delivery.Deliver(vector);
    }

    private sealed record HvMessage(uint Type, ulong Sender, byte[] Payload);
}
