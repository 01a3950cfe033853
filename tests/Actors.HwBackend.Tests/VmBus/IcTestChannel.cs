using System.Buffers.Binary;
using Actors.HwBackend.Memory;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.VmBus.IntegrationServices;
using Xunit;

namespace Actors.HwBackend.Tests.VmBus;

/// <summary>
/// An open channel in guest RAM for testing an integration service without a guest: the test
/// plays the guest's side of both rings as hv_utils does, reading what the host sent and
/// answering it.
/// </summary>
internal sealed class IcTestChannel : IDisposable
{
    private const ulong MiB = 1 << 20;

    private readonly GuestRam _ram = new(4 * MiB);
    private readonly VmBusRing _guestReads, _guestWrites; // the guest's ends of the two rings
    private readonly byte[] _packet = new byte[IntegrationService.MaxPacketBytes];
    private readonly SignalCounter _guest = new();

    /// <param name="dataPages">Each ring's data pages, after its header page (hv_utils lends 3 for KVP's large messages).</param>
    public IcTestChannel(int dataPages = 2)
    {
        var memory = new GuestPhysicalMap(_ram);
        memory.AddRam("low", 0, 2 * MiB, 0);
        ulong[] toHost = [.. Enumerable.Range(0x100, 1 + dataPages).Select(p => (ulong)p)];
        ulong[] toGuest = [.. Enumerable.Range(0x180, 1 + dataPages).Select(p => (ulong)p)];
        _guestWrites = new VmBusRing(memory, toHost);
        _guestReads = new VmBusRing(memory, toGuest);
        Channel = new VmBusChannel(relid: 1, targetVp: 0, sint: 2, new VmBusRing(memory, toHost), new VmBusRing(memory, toGuest), _guest, _ => null);
    }

    public VmBusChannel Channel { get; }

    /// <summary>How often the host signalled the guest.</summary>
    public int Signals => _guest.Signals;

    public void Dispose() => _ram.Dispose();

    /// <summary>The next message the guest finds in its ring (the IC header and body, after the packet descriptor).</summary>
    public byte[] GuestReceives()
    {
        byte[]? message = TryGuestReceives();
        Assert.True(message is not null, "a packet for the guest");
        return message;
    }

    /// <summary>The next message for the guest, or null when its ring is empty.</summary>
    public byte[]? TryGuestReceives()
    {
        int length = _guestReads.TryRead(_packet);
        if (length <= 0)
            return null;
        int dataOffset = BinaryPrimitives.ReadUInt16LittleEndian(_packet.AsSpan(2)) * 8;
        return _packet[dataOffset..length];
    }

    /// <summary>What hv_utils does: flag the message as its response (after any <paramref name="change"/>), send it back and signal <paramref name="to"/>.</summary>
    public void GuestAnswers(IVmBusDevice to, byte[] message, Action<byte[]>? change = null)
    {
        message[25] = IcMessage.Transaction | IcMessage.Response;
        change?.Invoke(message);
        GuestSends(to, message);
    }

    /// <summary>Puts <paramref name="message"/> in the guest-to-host ring as it is, and signals <paramref name="to"/>.</summary>
    public void GuestSends(IVmBusDevice to, byte[] message)
    {
        Assert.True(GuestWrites(message), "room in the guest's ring");
        to.Signalled(Channel);
    }

    /// <summary>Puts <paramref name="message"/> in the guest-to-host ring without signalling; false when it does not fit.</summary>
    public bool GuestWrites(byte[] message) => _guestWrites.TryWrite((ushort)VmBusPacketType.DataInband, 0, 1, message, out _);

    /// <summary>Opens the channel to <paramref name="service"/> and agrees to the first version it offers, as Linux does when it knows it.</summary>
    public void OpenAndNegotiate(IntegrationService service)
    {
        service.Opened(Channel);
        byte[] negotiate = GuestReceives();
        Assert.Equal(IcMessage.Negotiate, IcMessage.Type(negotiate));
        GuestAnswers(service, negotiate);
        Assert.True(service.Negotiated);
    }
}
