namespace Actors.HwBackend.Emulation.Tiers;

/// <summary>
/// The compiled code of a region: a hot block (the head, where the code is entered) and the blocks on
/// the same code page that it reaches by direct branches, which the code runs without going back to the
/// run loop. <see cref="Code"/> is bound to this object.
/// </summary>
internal sealed unsafe class Translation(Block[] blocks)
{
    /// <summary>The head first, then the region's other blocks.</summary>
    public Block[] Blocks { get; } = blocks;

    public CompiledBlock Code { get; set; } = null!;

    /// <summary>The block whose ops hold <paramref name="op"/>, where the code stopped.</summary>
    public Block BlockOf(Op* op)
    {
        foreach (Block b in Blocks)
        {
            if (op >= b.Ops && op <= b.Ops + b.Count)
                return b;
        }

        return Blocks[0];
    }
}
