using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Devices.Apic;

/// <summary>
/// The guest-visible state of a <see cref="LocalApic"/>, for save/restore and live migration.
/// Times are kept relative to the platform clock at save time, so a restore onto a clock with a
/// different origin continues the timer where it stopped.
/// </summary>
public sealed record LocalApicState : ISnapshotSection<LocalApicState>
{
    public static ushort SnapshotVersion => 1;

    /// <summary>The APIC ID the state belongs to; a restore into an APIC with another ID is refused.</summary>
    public uint ApicId { get; init; }

    public ulong ApicBaseMsr { get; init; }

    public uint Tpr { get; init; }

    /// <summary>LDR as written in xAPIC mode (x2APIC derives its LDR from the ID).</summary>
    public uint Ldr { get; init; }

    public uint Dfr { get; init; }

    public uint Svr { get; init; }

    /// <summary>In-service register, 256 bits as eight 32-bit words, lowest vectors first.</summary>
    public uint[] Isr { get; init; } = [];

    /// <summary>Trigger-mode register, same layout as <see cref="Isr"/>.</summary>
    public uint[] Tmr { get; init; } = [];

    /// <summary>Interrupt-request register, same layout as <see cref="Isr"/>.</summary>
    public uint[] Irr { get; init; } = [];

    /// <summary>ESR as the guest last latched it by writing ESR.</summary>
    public uint EsrLatched { get; init; }

    /// <summary>Errors detected since the last ESR write, not yet visible to reads.</summary>
    public uint EsrPending { get; init; }

    /// <summary>LVT entries in the order timer, thermal, performance counter, LINT0, LINT1, error.</summary>
    public uint[] Lvt { get; init; } = [];

    public uint IcrLow { get; init; }

    /// <summary>ICR bits 63:32: the destination (bits 31:24 used in xAPIC mode, all 32 in x2APIC mode).</summary>
    public uint IcrHigh { get; init; }

    public uint TimerInitialCount { get; init; }

    public uint TimerDivideConfiguration { get; init; }

    /// <summary>A one-shot or periodic count is running (or has expired without being serviced yet).</summary>
    public bool TimerArmed { get; init; }

    /// <summary>The next one-shot/periodic expiry minus the clock at save time; may be negative when overdue.</summary>
    public long TimerNextEventRelativeNanoseconds { get; init; }

    /// <summary>IA32_TSC_DEADLINE as written; 0 when disarmed.</summary>
    public ulong TscDeadline { get; init; }

    /// <summary>The TSC deadline on the platform clock minus the clock at save time.</summary>
    public long TscDeadlineRelativeNanoseconds { get; init; }

    public bool Lint0Level { get; init; }

    public bool Lint1Level { get; init; }

    public bool InitPending { get; init; }

    public bool WaitingForStartup { get; init; }

    public bool StartupPending { get; init; }

    public byte StartupVector { get; init; }

    public long NmisDropped { get; init; }

    /// <summary>Periodic timer ticks owed to the guest and not yet raised (the tick backlog).</summary>
    public int TimerPendingTicks { get; init; }

    /// <summary>A periodic tick was raised and its EOI has not come yet.</summary>
    public bool TimerAwaitingEoi { get; init; }

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteUInt32(ApicId);
        writer.WriteUInt64(ApicBaseMsr);
        writer.WriteUInt32(Tpr);
        writer.WriteUInt32(Ldr);
        writer.WriteUInt32(Dfr);
        writer.WriteUInt32(Svr);
        writer.WriteUInt32s(Isr, LocalApic.VectorWords);
        writer.WriteUInt32s(Tmr, LocalApic.VectorWords);
        writer.WriteUInt32s(Irr, LocalApic.VectorWords);
        writer.WriteUInt32(EsrLatched);
        writer.WriteUInt32(EsrPending);
        writer.WriteUInt32s(Lvt, LocalApic.LvtCount);
        writer.WriteUInt32(IcrLow);
        writer.WriteUInt32(IcrHigh);
        writer.WriteUInt32(TimerInitialCount);
        writer.WriteUInt32(TimerDivideConfiguration);
        writer.WriteBoolean(TimerArmed);
        writer.WriteInt64(TimerNextEventRelativeNanoseconds);
        writer.WriteUInt64(TscDeadline);
        writer.WriteInt64(TscDeadlineRelativeNanoseconds);
        writer.WriteBoolean(Lint0Level);
        writer.WriteBoolean(Lint1Level);
        writer.WriteBoolean(InitPending);
        writer.WriteBoolean(WaitingForStartup);
        writer.WriteBoolean(StartupPending);
        writer.WriteByte(StartupVector);
        writer.WriteInt64(NmisDropped);
        writer.WriteInt32(TimerPendingTicks);
        writer.WriteBoolean(TimerAwaitingEoi);
    }

    public static LocalApicState Read(ref SnapshotSectionReader reader, ushort version) => new()
    {
        ApicId = reader.ReadUInt32(),
        ApicBaseMsr = reader.ReadUInt64(),
        Tpr = reader.ReadUInt32(),
        Ldr = reader.ReadUInt32(),
        Dfr = reader.ReadUInt32(),
        Svr = reader.ReadUInt32(),
        Isr = reader.ReadUInt32s(LocalApic.VectorWords),
        Tmr = reader.ReadUInt32s(LocalApic.VectorWords),
        Irr = reader.ReadUInt32s(LocalApic.VectorWords),
        EsrLatched = reader.ReadUInt32(),
        EsrPending = reader.ReadUInt32(),
        Lvt = reader.ReadUInt32s(LocalApic.LvtCount),
        IcrLow = reader.ReadUInt32(),
        IcrHigh = reader.ReadUInt32(),
        TimerInitialCount = reader.ReadUInt32(),
        TimerDivideConfiguration = reader.ReadUInt32(),
        TimerArmed = reader.ReadBoolean(),
        TimerNextEventRelativeNanoseconds = reader.ReadInt64(),
        TscDeadline = reader.ReadUInt64(),
        TscDeadlineRelativeNanoseconds = reader.ReadInt64(),
        Lint0Level = reader.ReadBoolean(),
        Lint1Level = reader.ReadBoolean(),
        InitPending = reader.ReadBoolean(),
        WaitingForStartup = reader.ReadBoolean(),
        StartupPending = reader.ReadBoolean(),
        StartupVector = reader.ReadByte(),
        NmisDropped = reader.ReadInt64(),
        TimerPendingTicks = reader.ReadInt32(),
        TimerAwaitingEoi = reader.ReadBoolean(),
    };
}
