namespace Actors.HwBackend.VmBus;

/// <summary>
/// A device the host offers on the bus (OFFERCHANNEL): its class (which guest driver binds to it),
/// its instance, which names it in the guest (/sys/bus/vmbus/devices/INSTANCE) and stays the
/// same for the VM's life, across migrations, and its name for people.
/// </summary>
public sealed record VmBusOffer(Guid InterfaceType, Guid InterfaceInstance, string Name)
{
    // The integration services' classes (Linux's hv_utils binds to each).
    public static readonly Guid Shutdown = new("0e0b6031-5213-4934-818b-38d90ced39db");
    public static readonly Guid TimeSync = new("9527e630-d0ae-497b-adce-e80ab0175caf");
    public static readonly Guid Heartbeat = new("57164f39-9115-4e78-ab55-382f3bd5422d");
    public static readonly Guid KeyValuePairExchange = new("a9a0f4e7-5a45-4d96-b827-8a841e8c03e6");

    /// <summary>The synthetic SCSI controller's class (Linux's hv_storvsc binds to it).</summary>
    public static readonly Guid Scsi = new("ba6163d9-04a1-4d29-b605-72e2ffb1dc7f");

    /// <summary>The SCSI controller of a VM with disks, offered after the integration services.</summary>
    public static VmBusOffer ScsiController { get; } = new(Scsi, new Guid("a5b1c0de-0100-4a63-9f0e-000000000100"), "scsi");

    /// <summary>The SCSI controller's relid on an enlightened VM's bus: right after the integration services.</summary>
    public static uint ScsiControllerRelid => (uint)IntegrationServices.Count + 1;

    /// <summary>The synthetic network adapter's class (Linux's hv_netvsc binds to it).</summary>
    public static readonly Guid Network = new("f8615163-df3e-46c5-913f-f2d2f965ed0e");

    /// <summary>A VM's network adapter <paramref name="index"/>, offered after the SCSI controller.</summary>
    public static VmBusOffer NetworkAdapter(int index) => new(Network, new Guid($"a5b1c0de-0200-4a63-9f0e-{0x200 + index:x12}"), $"nic{index}");

    /// <summary>The devices every enlightened VM has, with the instance ids it keeps for life.</summary>
    public static IReadOnlyList<VmBusOffer> IntegrationServices { get; } =
    [
        new(Heartbeat, new Guid("a5b1c0de-0001-4a63-9f0e-0000000000b1"), "heartbeat"),
        new(Shutdown, new Guid("a5b1c0de-0003-4a63-9f0e-0000000000b3"), "shutdown"),
        new(TimeSync, new Guid("a5b1c0de-0004-4a63-9f0e-0000000000b4"), "time sync"),
        new(KeyValuePairExchange, new Guid("a5b1c0de-0002-4a63-9f0e-0000000000b2"), "kvp"),
    ];

    /// <summary>The relid of the integration service of class <paramref name="interfaceType"/> on an enlightened VM's bus (relids are offer positions, from 1).</summary>
    public static uint IntegrationServiceRelid(Guid interfaceType) =>
        IndexOf(IntegrationServices, interfaceType) is int index and >= 0
            ? (uint)index + 1
            : throw new ArgumentException($"{interfaceType} is not an integration service", nameof(interfaceType));

    /// <summary>The position of the first offer of class <paramref name="interfaceType"/> in <paramref name="offers"/>, or -1.</summary>
    public static int IndexOf(IReadOnlyList<VmBusOffer> offers, Guid interfaceType)
    {
        ArgumentNullException.ThrowIfNull(offers);
        for (int i = 0; i < offers.Count; i++)
        {
            if (offers[i].InterfaceType == interfaceType)
                return i;
        }
        return -1;
    }
}
