namespace Actors.Grains;

/// <summary>Packets a VSP sends to the guest over a channel, in order, all meant for its open <paramref name="Epoch"/>.</summary>
/// <param name="Epoch">The open epoch the packets are for; a channel opened again since drops them.</param>
/// <param name="Packets">The packets, in the order the guest is to read them.</param>
[GenerateSerializer]
[Alias("Actors.VmBusPackets")]
public sealed record VmBusPackets(
    [property: Id(0)] int Epoch,
    [property: Id(1)] IReadOnlyList<VmBusPacket> Packets)
{
    /// <summary>No packets: what a VSP answers when it has nothing to send.</summary>
    public static readonly VmBusPackets None = new(0, []);
}

/// <summary>One in-band packet for the guest: its transaction id and data.</summary>
/// <param name="TransactionId">The packet's transaction id; an answer carries the id of the request it answers.</param>
/// <param name="Data">The packet's payload, without the VMBus packet descriptor.</param>
[GenerateSerializer]
[Alias("Actors.VmBusPacket")]
public sealed record VmBusPacket(
    [property: Id(0)] ulong TransactionId,
    [property: Id(1)] byte[] Data);
