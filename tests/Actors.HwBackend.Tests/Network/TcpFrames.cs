using System.Buffers.Binary;
using Actors.HwBackend.Network;
using Actors.HwBackend.VmBus.Network;

namespace Actors.HwBackend.Tests.Network;

/// <summary>
/// IPv4 TCP frames as hv_netvsc hands them to its host when it offloads: a large send (IP length and
/// checksum zero, the pseudo header's sum without a length in the TCP checksum), or a frame whose
/// TCP checksum is left to the host. Checksums here are computed the slow way, independently of
/// <see cref="NetworkOffload"/>.
/// </summary>
internal static class TcpFrames
{
    /// <summary>What <see cref="NetworkOffload.VerifyChecksums"/> says of a correct TCP frame: TCP and IP checksums succeeded.</summary>
    public const uint Verified = 8 | 32;

    /// <summary>A checksum request for TCP over IPv4 with the TCP header at 34.</summary>
    public const uint ChecksumInfo = 1 | 4 | (34u << 16);

    private static readonly MacAddress Source = new(0x00155D_000001), Receiver = new(0x00155D_000002);

    /// <summary>Large send v2 for IPv4 with the TCP header at 34 and <paramref name="mss"/>.</summary>
    public static uint LargeSendInfo(int mss) => (uint)mss | (34u << 20) | (1u << 30);

    /// <summary>An Ethernet, IPv4 (id 0x1234, DF) and TCP (seq 1000, ACK|PSH|FIN|CWR) frame with <paramref name="payload"/>, as a large send.</summary>
    public static byte[] Large(ReadOnlySpan<byte> payload, MacAddress? destination = null)
    {
        byte[] frame = Headers(destination ?? Receiver, payload, ipLength: 0);
        ushort pseudo = Fold(Sum(frame.AsSpan(26, 8)) + 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(50), pseudo);
        return frame;
    }

    /// <summary>A whole frame whose TCP checksum is the host's to fill in: the pseudo header's sum, length included.</summary>
    public static byte[] Partial(ReadOnlySpan<byte> payload)
    {
        byte[] frame = Headers(Receiver, payload, ipLength: 40 + payload.Length);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(24), (ushort)~Fold(Sum(frame.AsSpan(14, 20))));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(50), Fold(Sum(frame.AsSpan(26, 8)) + 6 + (uint)(20 + payload.Length)));
        return frame;
    }

    /// <summary>A large send of one segment, as the host cuts it.</summary>
    public static byte[] Segment(byte[] large)
    {
        byte[] segment = new byte[large.Length];
        NetworkOffload.WriteSegment(large, 1448, 34, 0, segment);
        return segment;
    }

    private static byte[] Headers(MacAddress destination, ReadOnlySpan<byte> payload, int ipLength)
    {
        byte[] frame = new byte[54 + payload.Length];
        destination.Write(frame);
        Source.Write(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0800);
        frame[14] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), (ushort)ipLength);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(18), 0x1234);
        frame[20] = 0x40; // DF
        frame[22] = 64;
        frame[23] = 6;
        ((ReadOnlySpan<byte>)[10, 0, 0, 1, 10, 0, 0, 2]).CopyTo(frame.AsSpan(26));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(34), 40000);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(36), 5000);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(38), 1000);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(42), 77);
        frame[46] = 0x50;
        frame[47] = 0x80 | 0x10 | 0x08 | 0x01; // CWR, ACK, PSH, FIN
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(48), 502);
        payload.CopyTo(frame.AsSpan(54));
        return frame;
    }

    private static uint Sum(ReadOnlySpan<byte> bytes)
    {
        uint sum = 0;
        for (int i = 0; i < bytes.Length; i += 2)
            sum += (uint)(bytes[i] << 8) | (i + 1 < bytes.Length ? bytes[i + 1] : 0u);
        return sum;
    }

    private static ushort Fold(uint sum)
    {
        while (sum >> 16 != 0)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }
}
