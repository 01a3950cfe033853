using System.Buffers.Binary;
using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.VmBus;
using Xunit;

namespace Actors.HwBackend.Tests.VmBus;

public sealed class VmBusProtocolTests
{
    private const uint Version50 = 0x0005_0000, Version53 = 0x0005_0003, Version40 = 0x0004_0000;

    private readonly RecordingGuest _guest = new(processors: 2);
    private readonly VmBusProtocol _bus;

    public VmBusProtocolTests() => _bus = new VmBusProtocol(_guest);

    private static byte[] Message(VmBusMessageType type, int length = 8)
    {
        var message = new byte[length];
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)type);
        return message;
    }

    /// <summary>INITIATE_CONTACT as Linux 6.1 builds it for <paramref name="version"/>.</summary>
    private static byte[] Contact(uint version, uint targetVp = 1, byte sint = 2)
    {
        byte[] message = Message(VmBusMessageType.InitiateContact, 40);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), version);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(12), targetVp);
        message[16] = sint;
        BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(24), 0x7000);
        BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(32), 0x8000);
        return message;
    }

    private HvStatus Post(uint connection, byte[] message) => _bus.PostMessage(connection, HvMessageType.VmBus, message);

    [Fact]
    public void LinuxsNegotiationIsRefusedAboveFiveZeroAndAcceptedAtIt()
    {
        Assert.Equal(HvStatus.Success, Post(VmBusProtocol.ContactConnectionId, Contact(Version53)));
        (uint vp, int sint, byte[] refusal) = Assert.Single(_guest.Posted);
        Assert.Equal((1u, 2), (vp, sint)); // answered where the guest asked
        Assert.Equal((uint)VmBusMessageType.VersionResponse, BinaryPrimitives.ReadUInt32LittleEndian(refusal));
        Assert.Equal(0, refusal[8]); // version_supported
        Assert.False(_bus.State.Connected);

        Assert.Equal(HvStatus.Success, Post(VmBusProtocol.ContactConnectionId, Contact(Version50)));
        byte[] accepted = _guest.Posted[1].Message;
        Assert.Equal(1, accepted[8]);
        Assert.Equal(VmBusProtocol.MessageConnectionId, BinaryPrimitives.ReadUInt32LittleEndian(accepted.AsSpan(12)));
        Assert.Equal(new VmBusState(true, Version50, 1, 2, 0x7000, 0x8000), _bus.State);
    }

    [Fact]
    public void OffersAreRequestedAndTheBusUnloadsOnlyOnceConnected()
    {
        Post(VmBusProtocol.MessageConnectionId, Message(VmBusMessageType.RequestOffers));
        Assert.Empty(_guest.Posted);
        Assert.Equal(1, _bus.Dropped); // out of turn

        Post(VmBusProtocol.ContactConnectionId, Contact(Version50));
        Post(VmBusProtocol.MessageConnectionId, Message(VmBusMessageType.RequestOffers));
        Assert.Equal((uint)VmBusMessageType.AllOffersDelivered, BinaryPrimitives.ReadUInt32LittleEndian(_guest.Posted[^1].Message));

        Post(VmBusProtocol.MessageConnectionId, Message(VmBusMessageType.Unload));
        Assert.Equal((uint)VmBusMessageType.UnloadResponse, BinaryPrimitives.ReadUInt32LittleEndian(_guest.Posted[^1].Message));
        Assert.False(_bus.State.Connected);
    }

    [Fact]
    public void APreFiveGuestAndAnAddressThatDoesNotExistAreRefused()
    {
        // Before 5.0 there is no SINT in the message: the refusal goes to SINT 2.
        Post(VmBusProtocol.MessageConnectionId, Contact(Version40, targetVp: 0, sint: 9));
        Assert.Equal((0u, 2), (_guest.Posted[0].Vp, _guest.Posted[0].Sint));

        // A VP beyond the partition, or a SINT beyond 15: refused on VP 0's SINT 2.
        Post(VmBusProtocol.ContactConnectionId, Contact(Version50, targetVp: 7));
        Post(VmBusProtocol.ContactConnectionId, Contact(Version50, sint: 16));
        Assert.All(_guest.Posted, p => Assert.Equal((0u, 2, (byte)0), (p.Vp, p.Sint, p.Message[8])));
        Assert.False(_bus.State.Connected);
    }

    [Fact]
    public void WrongConnectionsTypesAndSizesGetAStatusOrAreDropped()
    {
        Assert.Equal(HvStatus.InvalidConnectionId, Post(3, Contact(Version50)));
        Assert.Equal(HvStatus.InvalidParameter, _bus.PostMessage(VmBusProtocol.ContactConnectionId, 2, Contact(Version50)));
        Assert.Equal(HvStatus.InvalidConnectionId, _bus.SignalEvent(2, 0));
        Assert.Equal(HvStatus.Success, Post(VmBusProtocol.ContactConnectionId, new byte[4])); // no header
        Assert.Equal(HvStatus.Success, Post(VmBusProtocol.ContactConnectionId, Contact(Version50)[..39])); // one byte short
        Assert.Equal(HvStatus.Success, Post(VmBusProtocol.MessageConnectionId, Message((VmBusMessageType)999)));
        Assert.Empty(_guest.Posted);
        Assert.Equal(3, _bus.Dropped);
    }

    [Fact]
    public void RandomAndMutatedMessagesNeverThrowAndGetAtMostOneAnswerEach()
    {
        // Seeded, so a failure is reproducible: 100,000 messages, half of them mutations of Linux's.
        var random = new Random(61);
        byte[][] valid = [Contact(Version50), Contact(Version53), Message(VmBusMessageType.RequestOffers), Message(VmBusMessageType.Unload)];
        for (int i = 0; i < 100_000; i++)
        {
            byte[] message;
            if (i % 2 == 0)
            {
                message = new byte[random.Next(0, 241)];
                random.NextBytes(message);
            }
            else
            {
                message = (byte[])valid[random.Next(valid.Length)].Clone();
                message[random.Next(message.Length)] ^= (byte)(1 << random.Next(8));
            }

            int before = _guest.Posted.Count;
            HvStatus status = _bus.PostMessage((uint)random.Next(0, 6), random.Next(8) == 0 ? (uint)random.Next() : HvMessageType.VmBus, message);
            Assert.True(status is HvStatus.Success or HvStatus.InvalidConnectionId or HvStatus.InvalidParameter, status.ToString());
            Assert.InRange(_guest.Posted.Count - before, 0, 1);
            Assert.All(_guest.Posted.Skip(before), p => Assert.True(p.Vp < 2 && p.Sint < 16));
        }
    }

    [Fact]
    public void AStateThisPartitionCannotHaveIsRefused()
    {
        var connected = new VmBusState(true, Version50, 1, 2, 0, 0);
        Assert.Null(_bus.FindRestoreProblem(connected));
        Assert.Null(_bus.FindRestoreProblem(VmBusState.Disconnected));
        Assert.Contains("not one this build speaks", _bus.FindRestoreProblem(connected with { Version = Version53 }));
        Assert.Contains("does not exist here", _bus.FindRestoreProblem(connected with { TargetVp = 2 }));
        Assert.Contains("does not exist here", _bus.FindRestoreProblem(connected with { MessageSint = 16 }));

        _bus.RestoreState(connected);
        Post(VmBusProtocol.MessageConnectionId, Message(VmBusMessageType.RequestOffers));
        Assert.Equal((1u, 2), (_guest.Posted[0].Vp, _guest.Posted[0].Sint));
    }

    private sealed class RecordingGuest(int processors) : IVmBusGuest
    {
        public List<(uint Vp, int Sint, byte[] Message)> Posted { get; } = [];

        public int ProcessorCount => processors;

        public bool PostMessage(uint vp, int sint, ReadOnlySpan<byte> message)
        {
            Posted.Add((vp, sint, message.ToArray()));
            return true;
        }
    }
}
