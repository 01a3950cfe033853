using System.Buffers.Binary;
using Actors.HwBackend.Enlightenments;

namespace Actors.HwBackend.VmBus;

/// <summary>
/// The host's side of the VMBus connection of one partition, as Linux 6.1's <c>hv_vmbus</c>
/// negotiates it: the guest posts channel messages (HvPostMessage, type 1) to the message
/// connection, and the answers go into the SynIC message slot of the VP and SINT the guest named
/// when it made contact. Today the bus connects, offers no channels yet, and unloads. Guest input
/// is untrusted: a message that is too short, of an unknown type, or out of turn is counted and
/// dropped, as Hyper-V drops it; an answer is never more than one message per message received.
/// Calls come from the vCPU thread making the hypercall, so the state is under a lock.
/// </summary>
public sealed class VmBusProtocol : IHypercallTarget
{
    /// <summary>Where INITIATE_CONTACT goes from protocol 5.0 on (and the connection we name for what follows).</summary>
    public const uint ContactConnectionId = 4;

    /// <summary>Where messages go before 5.0, and where we tell a 5.0 guest to send the rest.</summary>
    public const uint MessageConnectionId = 1;

    /// <summary>Before 5.0 the guest does not name a SINT: answers go to SINT 2.</summary>
    public const int DefaultMessageSint = 2;

    /// <summary>The protocol versions we speak, (major &lt;&lt; 16) | minor: 5.0, the first with a guest-chosen SINT.</summary>
    public static readonly uint[] SupportedVersions = [0x0005_0000];

    private const int HeaderBytes = 8;
    private const int InitiateContactBytes = 40;

    private readonly Lock _lock = new();
    private readonly IVmBusGuest _guest;
    private VmBusState _state = VmBusState.Disconnected;
    private long _dropped;

    public VmBusProtocol(IVmBusGuest guest)
    {
        ArgumentNullException.ThrowIfNull(guest);
        _guest = guest;
    }

    /// <summary>The connection as it stands.</summary>
    public VmBusState State
    {
        get { lock (_lock) return _state; }
    }

    /// <summary>Guest messages dropped: too short, unknown, out of turn, or answers the guest's SynIC could not take.</summary>
    public long Dropped
    {
        get { lock (_lock) return _dropped; }
    }

    public HvStatus PostMessage(uint connectionId, uint messageType, ReadOnlySpan<byte> payload)
    {
        if (connectionId is not (MessageConnectionId or ContactConnectionId))
            return HvStatus.InvalidConnectionId;
        if (messageType != HvMessageType.VmBus)
            return HvStatus.InvalidParameter;
        lock (_lock)
        {
            if (payload.Length < HeaderBytes)
            {
                _dropped++;
                return HvStatus.Success;
            }
            switch ((VmBusMessageType)BinaryPrimitives.ReadUInt32LittleEndian(payload))
            {
                case VmBusMessageType.InitiateContact:
                    InitiateContactLocked(payload);
                    break;
                case VmBusMessageType.RequestOffers when _state.Connected:
                    SendLocked(VmBusMessageType.AllOffersDelivered, []);
                    break;
                case VmBusMessageType.Unload when _state.Connected:
                    SendLocked(VmBusMessageType.UnloadResponse, []);
                    _state = VmBusState.Disconnected;
                    break;
                default:
                    _dropped++;
                    break;
            }
        }
        return HvStatus.Success;
    }

    /// <summary>No channels yet, so no event connection is open.</summary>
    public HvStatus SignalEvent(uint connectionId, ushort flagNumber) => HvStatus.InvalidConnectionId;

    public void RestoreState(VmBusState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_lock)
            _state = state;
    }

    /// <summary>A problem that keeps <paramref name="state"/> from being restored here, or null.</summary>
    public string? FindRestoreProblem(VmBusState state)
    {
        if (!state.Connected)
            return null;
        if (Array.IndexOf(SupportedVersions, state.Version) < 0)
            return $"protocol version 0x{state.Version:x} is not one this build speaks";
        if (state.TargetVp >= (uint)_guest.ProcessorCount || (uint)state.MessageSint >= SyntheticInterruptController.SintCount)
            return $"VP {state.TargetVp}, SINT {state.MessageSint} does not exist here";
        return null;
    }

    private void InitiateContactLocked(ReadOnlySpan<byte> message)
    {
        if (message.Length < InitiateContactBytes)
        {
            _dropped++;
            return;
        }
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(message[8..]);
        uint targetVp = BinaryPrimitives.ReadUInt32LittleEndian(message[12..]);
        int sint = version >= 0x0005_0000 ? message[16] : DefaultMessageSint;
        bool supported = Array.IndexOf(SupportedVersions, version) >= 0;
        bool addressable = targetVp < (uint)_guest.ProcessorCount && sint < SyntheticInterruptController.SintCount;

        // A version we do not speak is refused (the guest then offers an older one); so is a VP or SINT
        // that does not exist. The refusal goes where the guest asked when that exists, else to VP 0's SINT 2.
        var answerTo = addressable
            ? VmBusState.Disconnected with { TargetVp = targetVp, MessageSint = sint }
            : VmBusState.Disconnected;
        _state = supported && addressable
            ? new VmBusState(Connected: true, version, targetVp, sint, BinaryPrimitives.ReadUInt64LittleEndian(message[24..]), BinaryPrimitives.ReadUInt64LittleEndian(message[32..]))
            : answerTo;

        // VERSION_RESPONSE: version_supported, connection_state (0: connected), padding, msg_conn_id.
        Span<byte> body = stackalloc byte[8];
        body[0] = _state.Connected ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(body[4..], MessageConnectionId);
        SendLocked(VmBusMessageType.VersionResponse, body);
    }

    private void SendLocked(VmBusMessageType type, ReadOnlySpan<byte> body)
    {
        Span<byte> message = stackalloc byte[HeaderBytes + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)type);
        body.CopyTo(message[HeaderBytes..]);
        if (!_guest.PostMessage(_state.TargetVp, _state.MessageSint, message))
            _dropped++;
    }
}
