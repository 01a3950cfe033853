using System.Buffers.Binary;

namespace Actors.HwBackend.VmBus.Network;

/// <summary>
/// The work a network adapter takes off the guest, as Hyper-V's offers it to <c>hv_netvsc</c> for
/// IPv4: TCP and UDP checksums on transmit (the guest leaves the pseudo-header sum in the checksum
/// field), TCP segmentation (large send v2: the guest hands over up to
/// <see cref="MaximumLargeSendBytes"/> of one TCP stream with an MSS, and the host cuts it into
/// frames), and checksums verified on receive. Each saves the software CPU per-frame work that
/// costs the host next to nothing. Frames leave the adapter whole and correct whatever the guest
/// asked for, so the switch, other adapters and a TAP uplink see ordinary frames.
/// Everything here reads guest input: offsets and lengths are checked, and a frame that does not
/// hold what its per-packet information says is refused (false), never read out of bounds.
/// </summary>
internal static class NetworkOffload
{
    /// <summary>Per-packet information types in an RNDIS PACKET message.</summary>
    public const uint ChecksumInfo = 0, LargeSendInfo = 2;

    /// <summary>The largest TCP segment the guest may hand over (NDIS's LSOv2 maximum as Hyper-V gives it).</summary>
    public const int MaximumLargeSendBytes = 62_780;

    // NDIS_OFFLOAD capability bits: TCP with and without options, UDP (for IPv4); 802.3 framing.
    public const uint Ipv4Checksums = 0x10 | 0x04 | 0x40;
    public const uint Encapsulation8023 = 0x2;

    // NDIS_TCP_IP_CHECKSUM_PACKET_INFO, transmit: IPv4, TCP and UDP checksum wanted, the TCP/UDP header's offset at bit 16.
    private const uint TransmitIpv4 = 1, TransmitTcp = 4, TransmitUdp = 8;

    // ... and receive: what the host found.
    private const uint TcpFailed = 1, UdpFailed = 2, IpFailed = 4, TcpSucceeded = 8, UdpSucceeded = 16, IpSucceeded = 32;

    // NDIS_TCP_LARGE_SEND_OFFLOAD_V2: MSS in bits 0-19, the TCP header's offset in bits 20-29, type 1 in bit 30, IPv6 in bit 31.
    private const uint LargeSendV2 = 1u << 30, LargeSendIpv6 = 1u << 31;

    private const int EthernetBytes = 14, VlanTagBytes = 4, Ipv4MinimumBytes = 20, TcpMinimumBytes = 20, UdpBytes = 8;
    private const byte Tcp = 6, Udp = 17;
    private const byte TcpFin = 0x01, TcpPsh = 0x08, TcpCwr = 0x80;

    /// <summary>
    /// Finds per-packet information of <paramref name="type"/> in an RNDIS PACKET's fields (the message
    /// after its 8-byte header) and reads its first 32 bits; false when there is none or the list is malformed.
    /// </summary>
    public static bool TryReadInfo(ReadOnlySpan<byte> fields, uint type, out uint value)
    {
        value = 0;
        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(fields[20..]);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(fields[24..]);
        if (length == 0 || offset > (uint)fields.Length || length > (uint)fields.Length - offset)
            return false;
        ReadOnlySpan<byte> list = fields.Slice((int)offset, (int)length);
        while (list.Length >= 12)
        {
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(list);
            uint kind = BinaryPrimitives.ReadUInt32LittleEndian(list[4..]);
            uint at = BinaryPrimitives.ReadUInt32LittleEndian(list[8..]);
            if (size < 12 || size > (uint)list.Length)
                return false;
            if (kind == type && at >= 12 && at <= size - 4)
            {
                value = BinaryPrimitives.ReadUInt32LittleEndian(list[(int)at..]);
                return true;
            }
            list = list[(int)size..];
        }
        return false;
    }

    /// <summary>
    /// Transmit checksum: fills in the TCP or UDP checksum that <paramref name="info"/> asks for in a copy of
    /// the frame. False when the frame is not the IPv4 TCP or UDP packet the information describes.
    /// </summary>
    public static bool CompleteChecksum(Span<byte> frame, uint info)
    {
        if ((info & TransmitIpv4) == 0 || (info & (TransmitTcp | TransmitUdp)) == 0)
            return (info & (TransmitTcp | TransmitUdp)) == 0; // nothing asked of us (an IPv6 request is not: we do not offer it)
        int l4 = (int)((info >> 16) & 0x3FF);
        bool tcp = (info & TransmitTcp) != 0;
        if (!TryIpv4(frame, out int ip, out int headerEnd, out int ipEnd) || l4 != headerEnd || frame[ip + 9] != (tcp ? Tcp : Udp)
            || ipEnd - l4 < (tcp ? TcpMinimumBytes : UdpBytes))
            return false;
        Span<byte> segment = frame[l4..ipEnd];
        int field = tcp ? 16 : 6;
        // The guest left the pseudo-header's sum in the field; the rest of the segment is added to it.
        ushort sum = Fold(Sum(segment, 0));
        ushort checksum = (ushort)~sum;
        BinaryPrimitives.WriteUInt16BigEndian(segment[field..], !tcp && checksum == 0 ? (ushort)0xFFFF : checksum);
        return true;
    }

    /// <summary>The information of a large-send request: its MSS and the TCP header's offset; false for one this host does not take.</summary>
    public static bool TryLargeSend(uint info, out int mss, out int tcpOffset)
    {
        mss = (int)(info & 0xF_FFFF);
        tcpOffset = (int)((info >> 20) & 0x3FF);
        return (info & LargeSendV2) != 0 && (info & LargeSendIpv6) == 0 && mss > 0;
    }

    /// <summary>
    /// How many frames <see cref="WriteSegment"/> cuts a large send into, or 0 when the frame is not the IPv4
    /// TCP segment the request describes or its segments would not fit <paramref name="maximumFrame"/>.
    /// </summary>
    public static int CountSegments(ReadOnlySpan<byte> frame, int mss, int tcpOffset, int maximumFrame)
    {
        if (!TryIpv4(frame, out int ip, out int headerEnd, out _) || tcpOffset != headerEnd || frame[ip + 9] != Tcp
            || frame.Length < tcpOffset + TcpMinimumBytes)
            return 0;
        int headers = tcpOffset + ((frame[tcpOffset + 12] >> 4) * 4);
        if (headers < tcpOffset + TcpMinimumBytes || headers > frame.Length)
            return 0;
        int payload = frame.Length - headers; // the guest zeroes the IP length: the frame's own length is the truth
        if (headers + Math.Min(mss, payload) > maximumFrame)
            return 0;
        return payload == 0 ? 1 : (payload + mss - 1) / mss;
    }

    /// <summary>
    /// Writes frame <paramref name="index"/> of a large send into <paramref name="segment"/> and returns its
    /// length: the headers with the IP length, id and checksum and the TCP sequence number, flags and checksum
    /// of that segment (FIN and PSH on the last only, CWR on the first only), then its part of the payload.
    /// </summary>
    public static int WriteSegment(ReadOnlySpan<byte> frame, int mss, int tcpOffset, int index, Span<byte> segment)
    {
        TryIpv4(frame, out int ip, out _, out _);
        int headers = tcpOffset + ((frame[tcpOffset + 12] >> 4) * 4);
        int payload = frame.Length - headers;
        int start = index * mss;
        int length = Math.Min(mss, payload - start);
        bool first = index == 0, last = start + length >= payload;
        frame[..headers].CopyTo(segment);
        frame.Slice(headers + start, length).CopyTo(segment[headers..]);
        Span<byte> ipHeader = segment[ip..tcpOffset];
        BinaryPrimitives.WriteUInt16BigEndian(ipHeader[2..], (ushort)(headers - ip + length));
        BinaryPrimitives.WriteUInt16BigEndian(ipHeader[4..], (ushort)(BinaryPrimitives.ReadUInt16BigEndian(frame[(ip + 4)..]) + index));
        BinaryPrimitives.WriteUInt16BigEndian(ipHeader[10..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(ipHeader[10..], (ushort)~Fold(Sum(ipHeader, 0)));
        Span<byte> tcp = segment[tcpOffset..(headers + length)];
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], BinaryPrimitives.ReadUInt32BigEndian(frame[(tcpOffset + 4)..]) + (uint)start);
        if (!last)
            tcp[13] &= unchecked((byte)~(TcpFin | TcpPsh));
        if (!first)
            tcp[13] &= unchecked((byte)~TcpCwr);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], (ushort)~Fold(Sum(tcp, PseudoHeader(ipHeader, Tcp, tcp.Length))));
        return headers + length;
    }

    /// <summary>
    /// Receive: what the host finds of an IPv4 frame's checksums, as NDIS's receive checksum information
    /// (0 for a frame that is not IPv4 TCP or UDP, which the guest then checks itself).
    /// </summary>
    public static uint VerifyChecksums(ReadOnlySpan<byte> frame)
    {
        if (!TryIpv4(frame, out int ip, out int l4, out int ipEnd))
            return 0;
        byte protocol = frame[ip + 9];
        bool fragment = (BinaryPrimitives.ReadUInt16BigEndian(frame[(ip + 6)..]) & 0x3FFF) != 0; // more fragments, or an offset
        if (fragment || protocol is not (Tcp or Udp) || ipEnd - l4 < (protocol == Tcp ? TcpMinimumBytes : UdpBytes))
            return 0;
        ReadOnlySpan<byte> ipHeader = frame[ip..l4];
        uint verdict = Fold(Sum(ipHeader, 0)) == 0xFFFF ? IpSucceeded : IpFailed;
        ReadOnlySpan<byte> segment = frame[l4..ipEnd];
        if (protocol == Udp && BinaryPrimitives.ReadUInt16BigEndian(segment[6..]) == 0)
            return verdict; // a UDP datagram sent without a checksum: nothing to vouch for
        bool good = Fold(Sum(segment, PseudoHeader(ipHeader, protocol, segment.Length))) == 0xFFFF;
        return verdict | (protocol == Tcp ? (good ? TcpSucceeded : TcpFailed) : (good ? UdpSucceeded : UdpFailed));
    }

    /// <summary>Where an IPv4 header starts (after the Ethernet header and any 802.1Q tag) and ends, and where the packet ends; false for anything else or a header that does not fit.</summary>
    private static bool TryIpv4(ReadOnlySpan<byte> frame, out int ip, out int headerEnd, out int end)
    {
        ip = headerEnd = end = 0;
        if (frame.Length < EthernetBytes + Ipv4MinimumBytes)
            return false;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        ip = EthernetBytes;
        if (type == 0x8100)
        {
            if (frame.Length < EthernetBytes + VlanTagBytes + Ipv4MinimumBytes)
                return false;
            type = BinaryPrimitives.ReadUInt16BigEndian(frame[16..]);
            ip += VlanTagBytes;
        }
        int headerBytes = (frame[ip] & 0xF) * 4;
        headerEnd = ip + headerBytes;
        if (type != 0x0800 || frame[ip] >> 4 != 4 || headerBytes < Ipv4MinimumBytes || headerEnd > frame.Length)
            return false;
        int total = BinaryPrimitives.ReadUInt16BigEndian(frame[(ip + 2)..]);
        // A large send's length field is 0 (the guest leaves it so); otherwise the packet may be shorter than the frame (padding).
        end = total == 0 ? frame.Length : ip + total;
        return end >= headerEnd && end <= frame.Length;
    }

    /// <summary>The pseudo header's sum: addresses, protocol and the TCP or UDP length.</summary>
    private static uint PseudoHeader(ReadOnlySpan<byte> ipHeader, byte protocol, int length) =>
        Sum(ipHeader.Slice(12, 8), (uint)protocol + (uint)length);

    /// <summary>The one's-complement sum of big-endian 16-bit words (a last odd byte padded with zero), added to <paramref name="sum"/>, not yet folded.</summary>
    private static uint Sum(ReadOnlySpan<byte> bytes, uint sum)
    {
        ulong wide = sum;
        int i = 0;
        for (; i + 4 <= bytes.Length; i += 4)
            wide += BinaryPrimitives.ReadUInt32BigEndian(bytes[i..]);
        for (; i + 2 <= bytes.Length; i += 2)
            wide += BinaryPrimitives.ReadUInt16BigEndian(bytes[i..]);
        if (i < bytes.Length)
            wide += (uint)bytes[i] << 8;
        while (wide >> 32 != 0)
            wide = (wide & 0xFFFF_FFFF) + (wide >> 32);
        return (uint)((wide & 0xFFFF) + ((wide >> 16) & 0xFFFF)); // at most 17 bits: Fold finishes it
    }

    private static ushort Fold(uint sum)
    {
        while (sum >> 16 != 0)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }
}
