using System.Buffers.Binary;

namespace Actors.HwBackend.VmBus.IntegrationServices;

/// <summary>
/// What every integration service does on its channel, as Linux's <c>hv_utils</c> expects: when the
/// guest opens the channel the host offers framework 3.0 and the service's versions (NEGOTIATE), and
/// the guest answers with the ones it picked; after that the host sends requests and the guest
/// answers each with the same message flagged as a response. Guest answers are untrusted: one that
/// is too short or not flagged as a response is ignored, and a packet larger than Linux's own
/// receive buffer is dropped by the ring. Calls come from the vCPU thread that signalled the channel
/// and from the service's own timers, so a subclass's state is under <see cref="Lock"/>.
/// </summary>
public abstract class IntegrationService : IVmBusDevice
{
    /// <summary>Linux's util drivers receive into four pages; nothing longer is a well-formed answer.</summary>
    public const int MaxPacketBytes = 4 * 4096;

    private readonly byte[] _packet = new byte[MaxPacketBytes];
    private readonly uint[] _versions;
    private IVmBusChannel? _channel;
    private ulong _transaction;

    /// <param name="versions">The service versions offered, best first, each (major &lt;&lt; 16) | minor.</param>
    protected IntegrationService(params uint[] versions)
    {
        ArgumentOutOfRangeException.ThrowIfZero(versions.Length);
        _versions = versions;
    }

    protected Lock Lock { get; } = new();

    /// <summary>Whether the guest agreed on versions; until then the service sends nothing but NEGOTIATE.</summary>
    public bool Negotiated { get; private set; }

    /// <summary>The service version the guest picked, (major &lt;&lt; 16) | minor; 0 before it did.</summary>
    public uint Version { get; private set; }

    /// <summary>Whether the guest has the channel open.</summary>
    public bool Open
    {
        get { lock (Lock) return OpenLocked; }
    }

    protected bool OpenLocked => _channel is not null;

    /// <summary>For a service's one-line description: where it stands before versions are agreed, or null once they are.</summary>
    protected string? NotNegotiatedLocked(string negotiating = "negotiating") =>
        Negotiated ? null : OpenLocked ? negotiating : "no channel (the guest has not opened it)";

    public void Opened(IVmBusChannel channel)
    {
        lock (Lock)
        {
            (_channel, Negotiated, Version) = (channel, false, 0);
            OnOpenedLocked();
            int bodyBytes = 8 + (4 * (1 + _versions.Length));
            Span<byte> message = stackalloc byte[IcMessage.BodyOffset + bodyBytes];
            IcMessage.WriteRequestHeader(message, IcMessage.Negotiate, 3 << 16, bodyBytes);
            Span<byte> body = message[IcMessage.BodyOffset..];
            BinaryPrimitives.WriteUInt16LittleEndian(body, 1); // framework versions
            BinaryPrimitives.WriteUInt16LittleEndian(body[2..], (ushort)_versions.Length);
            WriteVersion(body[8..], IcMessage.FrameworkVersion);
            for (int i = 0; i < _versions.Length; i++)
                WriteVersion(body[(12 + (4 * i))..], _versions[i]);
            channel.TrySend(++_transaction, message);
        }
    }

    public void Signalled(IVmBusChannel channel)
    {
        bool negotiatedNow = false;
        lock (Lock)
        {
            if (!ReferenceEquals(channel, _channel))
                return;
            int length;
            while ((length = channel.TryReceive(_packet)) > 0)
            {
                int dataOffset = BinaryPrimitives.ReadUInt16LittleEndian(_packet.AsSpan(2)) * 8;
                Span<byte> message = _packet.AsSpan(dataOffset, length - dataOffset);
                if (message.Length < IcMessage.BodyOffset || !IcMessage.IsResponse(message))
                    continue;
                if (IcMessage.Type(message) == IcMessage.Negotiate)
                {
                    if (!Negotiated && TryAgree(message))
                    {
                        Negotiated = negotiatedNow = true;
                        OnNegotiatedLocked();
                    }
                }
                else if (Negotiated)
                {
                    OnAnswerLocked(IcMessage.Type(message), IcMessage.Status(message), message[IcMessage.BodyOffset..]);
                }
            }
        }
        if (negotiatedNow)
            AfterNegotiated();
    }

    public void Closed()
    {
        lock (Lock)
        {
            (_channel, Negotiated, Version) = (null, false, 0);
            OnClosedLocked();
        }
    }

    /// <summary>Sends a request of <paramref name="type"/> with <paramref name="body"/>; false when the channel is not open and negotiated, or its ring is full.</summary>
    protected bool SendLocked(ushort type, ReadOnlySpan<byte> body)
    {
        if (_channel is not { } channel || !Negotiated)
            return false;
        Span<byte> message = stackalloc byte[IcMessage.BodyOffset + body.Length];
        IcMessage.WriteRequestHeader(message, type, Version, body.Length);
        body.CopyTo(message[IcMessage.BodyOffset..]);
        return channel.TrySend(++_transaction, message);
    }

    /// <summary>The channel just opened; the NEGOTIATE offer follows.</summary>
    protected virtual void OnOpenedLocked()
    {
    }

    /// <summary>The guest agreed on <see cref="Version"/>; the service may send its first request.</summary>
    protected virtual void OnNegotiatedLocked()
    {
    }

    /// <summary>Called outside the lock after <see cref="OnNegotiatedLocked"/>, for what must not run under it.</summary>
    protected virtual void AfterNegotiated()
    {
    }

    /// <summary>The guest answered a request: its type, the status it set, and the body as it sent it back (any length).</summary>
    protected abstract void OnAnswerLocked(ushort type, uint status, ReadOnlySpan<byte> body);

    protected virtual void OnClosedLocked()
    {
    }

    /// <summary>Takes the versions the guest picked (one framework and one service version, first in the body), if they are ones we offered.</summary>
    private bool TryAgree(ReadOnlySpan<byte> message)
    {
        ReadOnlySpan<byte> body = message[IcMessage.BodyOffset..];
        if (IcMessage.Status(message) != 0 || body.Length < 16)
            return false;
        uint framework = ReadVersion(body[8..]), service = ReadVersion(body[12..]);
        if (framework != IcMessage.FrameworkVersion || Array.IndexOf(_versions, service) < 0)
            return false;
        Version = service;
        return true;
    }

    private static void WriteVersion(Span<byte> at, uint version)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)(version >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(at[2..], (ushort)version);
    }

    private static uint ReadVersion(ReadOnlySpan<byte> at) =>
        ((uint)BinaryPrimitives.ReadUInt16LittleEndian(at) << 16) | BinaryPrimitives.ReadUInt16LittleEndian(at[2..]);
}
