using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Network;
using Actors.HwBackend.Platform;
using Actors.HwBackend.Snapshots;
using Actors.HwBackend.Storage;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.VmBus.IntegrationServices;
using Actors.HwBackend.VmBus.Network;
using Actors.HwBackend.VmBus.Storage;

namespace Actors.HwBackend.Worker;

/// <summary>
/// What makes a VM an enlightened (Hyper-V) partition, wired to its machine: the partition's
/// synthetic MSRs, each VP's SynIC and synthetic timers (on the VP's local APIC and the platform
/// timer thread), the VMBus connection, and the hypercall dispatcher that the vCPU threads call.
/// Its state is the <c>hv</c>, <c>synic/N</c>, <c>stimer/N</c>, <c>vmbus</c>, <c>kvp</c> and <c>net/N</c> snapshot sections.
/// </summary>
internal sealed class VmEnlightenments
{
    private const string PartitionSection = "hv";
    private const string VmBusSection = "vmbus";
    private const string KvpSection = "kvp";

    private readonly HvPartition _partition;
    private readonly SyntheticInterruptController[] _synIcs;
    private readonly SyntheticTimers[] _timers;
    private readonly VmBusProtocol _vmBus;

    /// <param name="disks">The disks on the VM's synthetic SCSI controller, at LUN 0, 1, ... (null: none at that LUN).</param>
    /// <param name="nics">The VM's network adapters, offered after the SCSI controller.</param>
    public VmEnlightenments(IVirtualMachine machine, PlatformClock clock, PcPlatform platform, Action<string> requestReset, IReadOnlyList<IScsiLun?> disks, IReadOnlyList<NetworkAdapter> nics)
    {
        int processors = machine.Processors.Count;
        _partition = new HvPartition(machine.Memory, clock, processors, machine.TscHz, requestReset);
        _synIcs = new SyntheticInterruptController[processors];
        _timers = new SyntheticTimers[processors];
        Heartbeat = new HeartbeatService(clock, platform.RescheduleTimers);
        platform.AddTimedDevice(Heartbeat);
        Shutdown = new ShutdownService();
        TimeSync = new TimeSyncService(clock, TimeProvider.System, platform.RescheduleTimers);
        platform.AddTimedDevice(TimeSync);
        Kvp = new KvpService(clock, platform.RescheduleTimers);
        platform.AddTimedDevice(Kvp);
        // Positions as in VmBusOffer.IntegrationServices, then the SCSI controller, then the network adapters.
        // The bus reaches the SynICs through their array, filled below.
        List<VmBusOffer> offers = [.. VmBusOffer.IntegrationServices];
        List<IVmBusDevice?> devices = [Heartbeat, Shutdown, TimeSync, Kvp];
        // Every enlightened VM has its SCSI controller, with disks or not, so that disks can come and go while it runs.
        Storage = new StorageVsp(machine.Memory, disks);
        offers.Add(VmBusOffer.ScsiController);
        devices.Add(Storage);
        NetworkAdapters = [.. nics.Select(nic => new NetworkVsp(machine.Memory, nic.Address, nic.Uplink))];
        for (int i = 0; i < nics.Count; i++)
        {
            offers.Add(VmBusOffer.NetworkAdapter(i));
            devices.Add(NetworkAdapters[i]);
        }
        Offers = offers;
        _vmBus = new VmBusProtocol(new SynIcVmBusGuest(_synIcs), machine.Memory, offers, devices);
        Hypercalls = new HypercallDispatcher(machine.Memory, _vmBus, processors);
        for (int i = 0; i < processors; i++)
        {
            var apic = new SintToLocalApic(platform.LocalApics[i]);
            _synIcs[i] = new SyntheticInterruptController(machine.Memory, apic);
            _timers[i] = new SyntheticTimers(clock, _synIcs[i], apic, platform.RescheduleTimers);
            platform.AddTimedDevice(_timers[i]);
            machine.Processors[i].AttachSyntheticRegisters(new HvProcessor(_partition, (uint)i, _synIcs[i], _timers[i], Hypercalls));
        }
    }

    /// <summary>The host's end of the heartbeat integration service.</summary>
    public HeartbeatService Heartbeat { get; }

    public ShutdownService Shutdown { get; }

    public TimeSyncService TimeSync { get; }

    /// <summary>The host's end of the key-value pair exchange integration service.</summary>
    public KvpService Kvp { get; }

    /// <summary>The devices on the bus, by relid - 1.</summary>
    public IReadOnlyList<VmBusOffer> Offers { get; }

    /// <summary>The synthetic SCSI controller's VSP.</summary>
    public StorageVsp Storage { get; }

    /// <summary>The network adapters' VSPs, by adapter index.</summary>
    public IReadOnlyList<NetworkVsp> NetworkAdapters { get; }

    /// <summary>The VMBus connection, for its counters.</summary>
    public VmBusProtocol VmBus => _vmBus;

    /// <summary>Where the vCPU threads send hypercall exits.</summary>
    public HypercallDispatcher Hypercalls { get; }

    public void SaveSnapshot(SnapshotWriter writer)
    {
        writer.Add(PartitionSection, _partition.SaveState());
        writer.Add(VmBusSection, _vmBus.State);
        writer.Add(KvpSection, Kvp.SaveState());
        for (int i = 0; i < NetworkAdapters.Count; i++)
            writer.Add(NetworkSection(i), NetworkAdapters[i].SaveState());
        for (int i = 0; i < _synIcs.Length; i++)
        {
            writer.Add(SynIcSection(i), _synIcs[i].SaveState());
            writer.Add(TimerSection(i), _timers[i].SaveState());
        }
    }

    /// <summary>Decodes and checks every section; changes nothing, so that a refused snapshot leaves the VM as it was.</summary>
    /// <exception cref="SnapshotException">A section is missing, unreadable or does not fit this partition.</exception>
    public Sections ReadSnapshot(SnapshotReader reader)
    {
        var partition = reader.Read<HvPartitionState>(PartitionSection);
        SnapshotException.ThrowIfProblem(PartitionSection, _partition.FindRestoreProblem(partition));
        var vmBus = reader.Read<VmBusState>(VmBusSection);
        SnapshotException.ThrowIfProblem(VmBusSection, _vmBus.FindRestoreProblem(vmBus));
        // A snapshot from before the section existed owes the guest no pushes.
        var kvp = reader.Contains(KvpSection) ? reader.Read<KvpServiceState>(KvpSection) : new KvpServiceState([]);
        SnapshotException.ThrowIfProblem(KvpSection, KvpService.FindRestoreProblem(kvp));
        var synIcs = new SyntheticInterruptControllerState[_synIcs.Length];
        var timers = new SyntheticTimersState[_timers.Length];
        for (int i = 0; i < _synIcs.Length; i++)
        {
            synIcs[i] = reader.Read<SyntheticInterruptControllerState>(SynIcSection(i));
            SnapshotException.ThrowIfProblem(SynIcSection(i), _synIcs[i].FindRestoreProblem(synIcs[i]));
            timers[i] = reader.Read<SyntheticTimersState>(TimerSection(i));
            SnapshotException.ThrowIfProblem(TimerSection(i), SyntheticTimers.FindRestoreProblem(timers[i]));
        }
        // An adapter without a section (the VM had none when saved) starts over, as a new one would.
        var nics = new NetworkVspState[NetworkAdapters.Count];
        for (int i = 0; i < nics.Length; i++)
            nics[i] = reader.Contains(NetworkSection(i)) ? reader.Read<NetworkVspState>(NetworkSection(i)) : new NetworkVspState(0, 0, 0, 0, 0, false, 0, []);
        return new Sections(partition, vmBus, kvp, synIcs, timers, nics);
    }

    /// <summary>Applies what <see cref="ReadSnapshot"/> checked; the pages they name are in the restored RAM.</summary>
    public void Restore(Sections sections)
    {
        _partition.RestoreState(sections.Partition);
        for (int i = 0; i < _synIcs.Length; i++)
        {
            _synIcs[i].RestoreState(sections.SynIcs[i]);
            _timers[i].RestoreState(sections.Timers[i]);
        }
        // The bus last: its open channels' devices start over by negotiating, which signals the
        // guest through the SynICs, so those must already be the guest's. The time-sync service's
        // first sample after that sets the guest's clock, which stood still while the VM moved. The
        // KVP service gets the pushes it still owes before that, to send once it has negotiated again.
        // The network adapters likewise get what their guests negotiated before their channels reopen.
        Kvp.RestoreState(sections.Kvp);
        for (int i = 0; i < NetworkAdapters.Count; i++)
            NetworkAdapters[i].RestoreState(sections.Nics[i]);
        _vmBus.RestoreState(sections.VmBus);
    }

    /// <summary>Withdraws (true) or offers again (false) the device of class <paramref name="interfaceType"/>; false when it is so already, or still being released.</summary>
    public bool Withdraw(Guid interfaceType, bool withdraw)
    {
        if (OfferIndex(interfaceType) is not { } index)
            return false;
        return withdraw ? _vmBus.Rescind(index) : _vmBus.Reoffer(index);
    }

    private static int? OfferIndex(Guid interfaceType) =>
        VmBusOffer.IndexOf(VmBusOffer.IntegrationServices, interfaceType) is int index and >= 0 ? index : null;

    /// <summary>Serves the device of class <paramref name="interfaceType"/> through a relay to a VSP elsewhere.</summary>
    public VmBusRelay Relay(Guid interfaceType, Action wake)
    {
        int index = OfferIndex(interfaceType) ?? throw new InvalidOperationException($"the VM offers no VMBus device of class {interfaceType}");
        var relay = new VmBusRelay(IntegrationService.MaxPacketBytes, wake);
        _vmBus.SetDevice(index, relay);
        return relay;
    }

    /// <summary>The VM runs again after a pause, in which its clock stood still: set it.</summary>
    public void Resumed() => TimeSync.Resync();

    private static string SynIcSection(int vp) => $"synic/{vp}";

    private static string TimerSection(int vp) => $"stimer/{vp}";

    private static string NetworkSection(int nic) => $"net/{nic}";

    /// <summary>The decoded, checked sections of a snapshot, waiting to be applied.</summary>
    internal sealed record Sections(HvPartitionState Partition, VmBusState VmBus, KvpServiceState Kvp, SyntheticInterruptControllerState[] SynIcs, SyntheticTimersState[] Timers, NetworkVspState[] Nics);
}
