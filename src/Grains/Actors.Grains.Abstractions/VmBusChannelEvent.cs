namespace Actors.Grains;

/// <summary>What happened on a VMBus channel whose VSP runs in a grain, carried from the VM's worker to that VSP.</summary>
[GenerateSerializer]
[Alias("Actors.VmBusChannelEventKind")]
public enum VmBusChannelEventKind
{
    /// <summary>The guest opened the channel; a new epoch begins.</summary>
    Opened,

    /// <summary>The guest sent a packet (its 16-byte descriptor, then its data).</summary>
    Packet,

    /// <summary>The guest closed the channel.</summary>
    Closed,
}

/// <summary>One thing that happened on a channel, in the channel's open <paramref name="Epoch"/> on the VM's host.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Epoch">The channel's open epoch it happened in; each open begins a new one.</param>
/// <param name="Packet">For <see cref="VmBusChannelEventKind.Packet"/>, the packet; null otherwise.</param>
[GenerateSerializer]
[Alias("Actors.VmBusChannelEvent")]
public sealed record VmBusChannelEvent(
    [property: Id(0)] VmBusChannelEventKind Kind,
    [property: Id(1)] int Epoch,
    [property: Id(2)] byte[]? Packet);
