namespace Actors.HwBackend.VmBus;

/// <summary>VMBus channel message types (Linux's <c>enum vmbus_channel_message_type</c>), the first word of every channel message.</summary>
public enum VmBusMessageType : uint
{
    OfferChannel = 1,
    RescindChannelOffer = 2,
    RequestOffers = 3,
    AllOffersDelivered = 4,
    OpenChannel = 5,
    OpenChannelResult = 6,
    CloseChannel = 7,
    GpadlHeader = 8,
    GpadlBody = 9,
    GpadlCreated = 10,
    GpadlTeardown = 11,
    GpadlTorndown = 12,
    RelIdReleased = 13,
    InitiateContact = 14,
    VersionResponse = 15,
    Unload = 16,
    UnloadResponse = 17,
    ModifyChannel = 22,
}
