namespace Actors.Grains;

/// <summary>Packets a VSP sends to the guest over a channel, in order, all meant for its open <paramref name="Epoch"/>.</summary>
[GenerateSerializer]
[Alias("Actors.VmBusPackets")]
public sealed record VmBusPackets(
    [property: Id(0)] int Epoch,
    [property: Id(1)] IReadOnlyList<VmBusPacket> Packets)
{
    public static readonly VmBusPackets None = new(0, []);
}

/// <summary>One in-band packet for the guest: its transaction id and data.</summary>
[GenerateSerializer]
[Alias("Actors.VmBusPacket")]
public sealed record VmBusPacket(
    [property: Id(0)] ulong TransactionId,
    [property: Id(1)] byte[] Data);
