namespace Actors.HwBackend.VmBus.Network;

/// <summary>
/// Remote NDIS as it travels inside NVSP: every message starts with its type and its whole length
/// (8 bytes), and a request's first field is its id, which the completion carries back. Data
/// messages (PACKET) carry one Ethernet frame at an offset from the start of the packet fields.
/// </summary>
internal static class Rndis
{
    public const int HeaderBytes = 8;

    /// <summary>A PACKET message's fields after the header: data offset and length, out-of-band and per-packet-info offsets and lengths, VC handle, reserved.</summary>
    public const int PacketFieldBytes = 36;

    public const uint Packet = 0x1, Initialize = 0x2, Halt = 0x3, Query = 0x4, Set = 0x5, Reset = 0x6, Indicate = 0x7, KeepAlive = 0x8;

    /// <summary>A completion's type: its request's with the top bit set.</summary>
    public const uint Completion = 0x8000_0000;

    public const uint StatusSuccess = 0, StatusFailure = 0xC000_0001, StatusNotSupported = 0xC000_00BB, StatusInvalidData = 0xC001_0015;
    public const uint StatusMediaConnect = 0x4001_000B, StatusMediaDisconnect = 0x4001_000C;

    // The objects (OIDs) Linux queries and sets.
    public const uint OidMaximumFrameSize = 0x0001_0106, OidLinkSpeed = 0x0001_0107, OidCurrentPacketFilter = 0x0001_010E;
    public const uint OidMediaConnectStatus = 0x0001_0114, OidReceiveScaleCapabilities = 0x0001_0203;
    public const uint OidPermanentAddress = 0x0101_0101, OidCurrentAddress = 0x0101_0102, OidMulticastList = 0x0101_0103;
    public const uint OidOffloadParameters = 0xFC01_020C, OidOffloadHardwareCapabilities = 0xFC01_020D;

    // Packet filter bits (NDIS_PACKET_TYPE_*).
    public const uint FilterDirected = 0x1, FilterMulticast = 0x2, FilterAllMulticast = 0x4, FilterBroadcast = 0x8, FilterPromiscuous = 0x20;

    /// <summary>NDIS_OBJECT_TYPE_OFFLOAD, and the size of NDIS 6.0's offload capabilities (up to its IPsec v2 part).</summary>
    public const byte OffloadObjectType = 0xA7;
    public const int OffloadCapabilitiesBytes = 112;
}
