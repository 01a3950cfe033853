namespace Actors.HwBackend.Emulation.Tiers;

/// <summary>
/// The compiled code of a region: a hot block (the head, where the code is entered) and the blocks on
/// the same code page that it reaches by direct branches, which the code runs without going back to the
/// run loop. <see cref="Code"/> is bound to this object.
/// </summary>
internal sealed class Translation(Block[] blocks)
{
    /// <summary>The head first, then the region's other blocks.</summary>
    public Block[] Blocks { get; } = blocks;

    public CompiledBlock Code { get; set; } = null!;
}
