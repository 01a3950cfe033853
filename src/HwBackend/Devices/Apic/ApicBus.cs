namespace Actors.HwBackend.Devices.Apic;

/// <summary>
/// The machine's interrupt message bus between local APICs and IOAPICs: resolves a message's
/// destination (physical, logical flat/cluster, x2APIC logical, shorthands, lowest priority) and
/// hands it to each target, and carries EOIs of level-triggered vectors (and of edge-triggered ones
/// a device counts) back to the IOAPICs.
/// Targets are consulted one at a time, each under its own lock only, so delivery from any number
/// of threads cannot deadlock. Delivery allocates nothing.
/// </summary>
public sealed class ApicBus
{
    private readonly Lock _attachLock = new();
    private LocalApic[] _apics = [];
    private IoApic[] _ioApics = [];

    /// <summary>The attached local APICs, in processor-index order.</summary>
    public IReadOnlyList<LocalApic> LocalApics => Volatile.Read(ref _apics);

    /// <summary>Adds the next processor's APIC; processor index order is the lowest-priority tie-break order.</summary>
    public void Attach(LocalApic apic)
    {
        ArgumentNullException.ThrowIfNull(apic);
        lock (_attachLock)
        {
            foreach (LocalApic existing in _apics)
            {
                if (existing == apic || existing.ApicId == apic.ApicId)
                    throw new ArgumentException($"APIC ID {apic.ApicId} is already attached.", nameof(apic));
            }
            // Copy on attach: Deliver reads the array without a lock.
            Volatile.Write(ref _apics, [.. _apics, apic]);
        }
    }

    /// <summary>Adds an IOAPIC, which then hears EOI broadcasts.</summary>
    public void AttachIoApic(IoApic ioApic)
    {
        ArgumentNullException.ThrowIfNull(ioApic);
        lock (_attachLock)
            Volatile.Write(ref _ioApics, [.. _ioApics, ioApic]);
    }

    /// <summary>
    /// Delivers a message to every APIC it addresses, or for lowest priority to the addressed APIC
    /// with the lowest TPR (ties to the lowest processor index). A destination nobody matches is
    /// dropped silently, as on hardware.
    /// </summary>
    public void Deliver(in ApicMessage message)
    {
        LocalApic[] apics = Volatile.Read(ref _apics);
        if (message.DeliveryMode == ApicDeliveryMode.LowestPriority)
        {
            LocalApic? best = null;
            uint bestTpr = uint.MaxValue;
            foreach (LocalApic apic in apics)
            {
                if (!IsTarget(apic, in message))
                    continue;
                uint tpr = apic.ArbitrationTpr;
                if (best is null || tpr < bestTpr)
                {
                    best = apic;
                    bestTpr = tpr;
                }
            }
            best?.Receive(in message);
            return;
        }
        foreach (LocalApic apic in apics)
        {
            if (IsTarget(apic, in message))
                apic.Receive(in message);
        }
    }

    /// <summary>
    /// Whether an IOAPIC wants the EOI of edge-triggered <paramref name="vector"/> too (a device
    /// behind one of its pins counts acknowledgements). Lock-free: local APICs ask on every EOI.
    /// </summary>
    public bool WantsEdgeEoi(byte vector)
    {
        foreach (IoApic ioApic in Volatile.Read(ref _ioApics))
        {
            if (ioApic.WantsEdgeEoi(vector))
                return true;
        }
        return false;
    }

    /// <summary>
    /// A local APIC's EOI of a level-triggered vector (or of an edge-triggered one an IOAPIC
    /// <see cref="WantsEdgeEoi">wants</see>): every IOAPIC clears remote IRR of the entries using
    /// it and tells the listeners of their pins.
    /// </summary>
    public void BroadcastEoi(byte vector)
    {
        foreach (IoApic ioApic in Volatile.Read(ref _ioApics))
            ioApic.OnEoi(vector);
    }

    private static bool IsTarget(LocalApic apic, in ApicMessage message) => message.Shorthand switch
    {
        ApicShorthand.Self => apic.ApicId == message.SourceApicId && apic.IsHardwareEnabled,
        ApicShorthand.AllIncludingSelf => apic.IsHardwareEnabled,
        ApicShorthand.AllExcludingSelf => apic.ApicId != message.SourceApicId && apic.IsHardwareEnabled,
        _ => apic.MatchesDestination(message.Destination, message.LogicalDestination),
    };
}
