using System.Buffers.Binary;

namespace Actors.HwBackend.VmBus.IntegrationServices;

/// <summary>
/// The framing every integration service uses inside a channel packet (Linux's
/// <c>vmbuspipe_hdr</c> and <c>icmsg_hdr</c>): pipe flags and size (8 bytes), then framework
/// version @8, message type @12, message version @14, message size @18, status @20, transaction
/// id @24 and flags @25; the body starts at <see cref="BodyOffset"/>.
/// </summary>
public static class IcMessage
{
    public const int BodyOffset = 28;

    /// <summary>Framework 3.0, (major &lt;&lt; 16) | minor, as Hyper-V since Windows 8 speaks it.</summary>
    public const uint FrameworkVersion = 3 << 16;

    // icmsgtype
    public const ushort Negotiate = 0;
    public const ushort Heartbeat = 1;
    public const ushort KeyValuePair = 2;
    public const ushort Shutdown = 3;
    public const ushort TimeSync = 4;

    // icflags: a transaction, and which side's half of it this is.
    public const byte Transaction = 1;
    public const byte Request = 2;
    public const byte Response = 4;

    /// <summary>HV_E_FAIL, the status a guest sets when it cannot do what was asked.</summary>
    public const uint Failure = 0x8000_4005;

    /// <summary>The header of a request of <paramref name="type"/>, message version <paramref name="version"/>, with a body of <paramref name="bodyBytes"/> bytes.</summary>
    public static void WriteRequestHeader(Span<byte> message, ushort type, uint version, int bodyBytes)
    {
        message[..BodyOffset].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(message[4..], (uint)(BodyOffset - 8 + bodyBytes)); // the pipe's message size
        BinaryPrimitives.WriteUInt16LittleEndian(message[8..], (ushort)(FrameworkVersion >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(message[10..], (ushort)(FrameworkVersion & 0xffff));
        BinaryPrimitives.WriteUInt16LittleEndian(message[12..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(message[14..], (ushort)(version >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(message[16..], (ushort)version);
        BinaryPrimitives.WriteUInt16LittleEndian(message[18..], (ushort)bodyBytes);
        message[25] = Transaction | Request;
    }

    public static ushort Type(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadUInt16LittleEndian(message[12..]);

    public static bool IsResponse(ReadOnlySpan<byte> message) => (message[25] & Response) != 0;

    public static uint Status(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadUInt32LittleEndian(message[20..]);
}
