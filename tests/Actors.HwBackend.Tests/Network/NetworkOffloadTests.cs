using System.Buffers.Binary;
using Actors.HwBackend.VmBus.Network;
using Xunit;

namespace Actors.HwBackend.Tests.Network;

/// <summary>
/// The adapter's checksum and segmentation offload on its own: a large send becomes MSS-sized frames
/// that a receiver's stack would take (lengths, ids, sequence numbers, flags and both checksums as
/// if each had been sent alone), checksums are filled in and verified, and what does not describe
/// its frame is refused.
/// </summary>
public sealed class NetworkOffloadTests
{
    [Fact]
    public void A_large_send_is_cut_into_segments_each_a_correct_frame()
    {
        byte[] payload = new byte[10_000];
        new Random(5).NextBytes(payload);
        byte[] large = TcpFrames.Large(payload);
        int count = NetworkOffload.CountSegments(large, 1448, 34, 1518);
        Assert.Equal(7, count);

        var received = new List<byte>();
        byte[] segment = new byte[1518];
        for (int i = 0; i < count; i++)
        {
            int length = NetworkOffload.WriteSegment(large, 1448, 34, i, segment);
            ReadOnlySpan<byte> frame = segment.AsSpan(0, length);
            int data = Math.Min(1448, payload.Length - (i * 1448));
            Assert.Equal(54 + data, length);
            Assert.Equal(40 + data, BinaryPrimitives.ReadUInt16BigEndian(frame[16..])); // IP length
            Assert.Equal(0x1234 + i, BinaryPrimitives.ReadUInt16BigEndian(frame[18..])); // IP id
            Assert.Equal(1000u + (uint)(i * 1448), BinaryPrimitives.ReadUInt32BigEndian(frame[38..]));
            byte flags = frame[47];
            Assert.Equal(i == 0, (flags & 0x80) != 0); // CWR on the first
            Assert.Equal(i == count - 1, (flags & 0x09) == 0x09); // FIN and PSH on the last
            Assert.Equal(0x10, flags & 0x10); // ACK on all
            Assert.Equal(TcpFrames.Verified, NetworkOffload.VerifyChecksums(frame));
            received.AddRange(frame[54..].ToArray());
        }
        Assert.Equal(payload, received.ToArray());
    }

    [Fact]
    public void A_checksum_left_to_the_host_is_filled_in_and_a_damaged_frame_is_found_out()
    {
        byte[] frame = TcpFrames.Partial(new byte[777]);
        Assert.True(NetworkOffload.CompleteChecksum(frame, TcpFrames.ChecksumInfo));
        Assert.Equal(TcpFrames.Verified, NetworkOffload.VerifyChecksums(frame));

        frame[100] ^= 0x40;
        Assert.Equal(1u | 32u, NetworkOffload.VerifyChecksums(frame)); // TCP failed, IP succeeded
        frame[15] ^= 0x01; // the IP header's type of service
        Assert.Equal(1u | 4u, NetworkOffload.VerifyChecksums(frame));
    }

    [Theory]
    [InlineData("UDP asked of a TCP frame")]
    [InlineData("a header offset that is not after the IP header")]
    [InlineData("an IP length past the frame")]
    [InlineData("not IPv4")]
    public void A_checksum_request_that_does_not_describe_its_frame_is_refused(string how)
    {
        byte[] frame = TcpFrames.Partial(new byte[100]);
        uint info = TcpFrames.ChecksumInfo;
        switch (how)
        {
            case "UDP asked of a TCP frame": info = 1 | 8 | (34u << 16); break;
            case "a header offset that is not after the IP header": info += 2u << 16; break;
            case "an IP length past the frame": BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), 2000); break;
            case "not IPv4": frame[12] = 0x86; frame[13] = 0xDD; break;
        }
        Assert.False(NetworkOffload.CompleteChecksum(frame, info));
        Assert.Equal(0u, how == "not IPv4" ? NetworkOffload.VerifyChecksums(frame) : 0u);
    }

    [Theory]
    [InlineData(0, 34, "an MSS of 0")]
    [InlineData(1500, 34, "segments larger than a frame")]
    [InlineData(1448, 30, "a TCP offset inside the IP header")]
    [InlineData(1448, 60, "a TCP offset past the IP header")]
    public void A_large_send_that_does_not_describe_its_frame_is_refused(int mss, int tcpOffset, string why)
    {
        byte[] large = TcpFrames.Large(new byte[3000]);
        uint info = (uint)mss | ((uint)tcpOffset << 20) | (1u << 30);
        bool taken = NetworkOffload.TryLargeSend(info, out int parsedMss, out int parsedOffset);
        Assert.True(!taken || NetworkOffload.CountSegments(large, parsedMss, parsedOffset, 1518) == 0, why);
    }

    [Fact]
    public void Per_packet_information_is_found_by_type_and_a_list_that_runs_off_its_message_is_ignored()
    {
        byte[] fields = new byte[36 + 32];
        BinaryPrimitives.WriteUInt32LittleEndian(fields.AsSpan(20), 36);
        BinaryPrimitives.WriteUInt32LittleEndian(fields.AsSpan(24), 32);
        foreach ((int at, uint type, uint value) in new[] { (36, 0u, 0xAAu), (52, 2u, 0xBBu) })
        {
            BinaryPrimitives.WriteUInt32LittleEndian(fields.AsSpan(at), 16);
            BinaryPrimitives.WriteUInt32LittleEndian(fields.AsSpan(at + 4), type);
            BinaryPrimitives.WriteUInt32LittleEndian(fields.AsSpan(at + 8), 12);
            BinaryPrimitives.WriteUInt32LittleEndian(fields.AsSpan(at + 12), value);
        }
        Assert.True(NetworkOffload.TryReadInfo(fields, 2, out uint found));
        Assert.Equal(0xBBu, found);
        Assert.False(NetworkOffload.TryReadInfo(fields, 1, out _));

        BinaryPrimitives.WriteUInt32LittleEndian(fields.AsSpan(52), 0x1000); // the second runs past the list
        Assert.False(NetworkOffload.TryReadInfo(fields, 2, out _));
        BinaryPrimitives.WriteUInt32LittleEndian(fields.AsSpan(24), 0x7FFF_FFFF); // the list runs past the message
        Assert.False(NetworkOffload.TryReadInfo(fields, 0, out _));
    }
}
