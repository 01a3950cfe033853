namespace Actors.Grains;

/// <summary>
/// Ethernet frames carried together between a VM's NIC and its virtual switch, or from the switch
/// to a port: the frames back to back in <see cref="Data"/>, and each one's length in
/// <see cref="Lengths"/>, so that a batch is two arrays however many frames it holds.
/// </summary>
/// <param name="Data">The frames, each one's bytes right after the previous frame's.</param>
/// <param name="Lengths">Each frame's length in bytes, in the order of <paramref name="Data"/>.</param>
[GenerateSerializer]
[Alias("Actors.FrameBatch")]
public sealed record FrameBatch(
    [property: Id(0)] byte[] Data,
    [property: Id(1)] int[] Lengths)
{
    /// <summary>The largest frame a port may carry: a 1500-byte payload, its Ethernet header and an 802.1Q tag.</summary>
    public const int MaximumFrameBytes = 1518;

    /// <summary>The smallest: an Ethernet header (destination, source, type).</summary>
    public const int MinimumFrameBytes = 14;

    /// <summary>How many frames the batch holds.</summary>
    public int Count => Lengths.Length;
}
