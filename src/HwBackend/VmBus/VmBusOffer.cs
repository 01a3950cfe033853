namespace Actors.HwBackend.VmBus;

/// <summary>
/// A device the host offers on the bus (OFFERCHANNEL): its class (which guest driver binds to it)
/// and its instance, which names it in the guest (/sys/bus/vmbus/devices/INSTANCE) and stays the
/// same for the VM's life, across migrations.
/// </summary>
public sealed record VmBusOffer(Guid InterfaceType, Guid InterfaceInstance)
{
    /// <summary>The heartbeat integration service's class (Linux's hv_utils binds to it).</summary>
    public static readonly Guid Heartbeat = new("57164f39-9115-4e78-ab55-382f3bd5422d");

    /// <summary>The key-value pair exchange integration service's class (hv_utils binds to it too).</summary>
    public static readonly Guid KeyValuePairExchange = new("a9a0f4e7-5a45-4d96-b827-8a841e8c03e6");

    /// <summary>The devices every enlightened VM has, with the instance ids it keeps for life.</summary>
    public static IReadOnlyList<VmBusOffer> IntegrationServices { get; } =
    [
        new(Heartbeat, new Guid("a5b1c0de-0001-4a63-9f0e-0000000000b1")),
        new(KeyValuePairExchange, new Guid("a5b1c0de-0002-4a63-9f0e-0000000000b2")),
    ];
}
