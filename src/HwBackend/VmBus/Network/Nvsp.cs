namespace Actors.HwBackend.VmBus.Network;

/// <summary>
/// The network VSP protocol (NVSP) as Linux's hv_netvsc speaks it: a 4-byte message type, then the
/// message's fields; a message is 40 bytes in all, however few of them a type uses.
/// </summary>
internal static class Nvsp
{
    public const int MessageBytes = 40;

    public const uint Init = 1, InitComplete = 2;
    public const uint SendNdisVersion = 100;
    public const uint SendReceiveBuffer = 101, SendReceiveBufferComplete = 102, RevokeReceiveBuffer = 103;
    public const uint SendSendBuffer = 104, SendSendBufferComplete = 105, RevokeSendBuffer = 106;
    public const uint SendRndisPacket = 107, SendRndisPacketComplete = 108;
    public const uint SendNdisConfig = 125;
    public const uint SwitchDataPath = 129;
    public const uint Subchannel = 133;

    public const uint StatusSuccess = 1, StatusFailure = 2;

    /// <summary>Versions 2 (0x30002) to 6.1 (0x60001): Linux offers 6.1 first and takes the first the host accepts.</summary>
    public static bool IsSupportedVersion(uint version) => version is 0x30002 or 0x40000 or 0x50000 or 0x60000 or 0x60001;

    /// <summary>A send-buffer section index that says the data is not in the send buffer.</summary>
    public const uint NoSection = 0xFFFF_FFFF;
}
