using Actors.HwBackend.Emulation.Tiers;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// A run of decoded instructions that ends at a control transfer, an instruction that changes what
/// decoding assumed (mode, paging, interrupt flag), a page boundary or a length limit. The last op
/// is a sentinel that sets RIP to the fall-through address.
/// </summary>
internal sealed unsafe class Block
{
    public ulong Rip;
    public byte* Host;
    public int Bitness;
    public Op* Ops;

    /// <summary>Real instructions, not counting the sentinel.</summary>
    public int Count;

    public ulong EndIp;
    public ulong RamPage0 = ulong.MaxValue;
    public ulong RamPage1 = ulong.MaxValue;
    public bool Valid = true;

    /// <summary>Cached successors (fall-through and taken), trusted only within the epoch they were linked in.</summary>
    public Block? FallThrough, Taken;
    public ulong FallThroughEpoch, TakenEpoch;

    /// <summary>
    /// The translating tier's: runs counted towards translation, whether it is queued, the request of another
    /// block's region that includes this block, the translation entered here and its generation.
    /// </summary>
    public int Heat;
    public bool Queued;
    public TranslationRequest? CoveredBy;
    public Translation? Translation;
    public long TranslationGeneration;
}
