using Iced.Intel;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>One generated test: instruction bytes, inputs, and what of the outputs is architecturally defined.</summary>
internal sealed class DiffCase
{
    public required byte[] Code { get; init; }

    /// <summary>The instruction as decoded from <see cref="Code"/>, for masks and messages.</summary>
    public required Instruction Instruction { get; init; }

    public required RegisterState Input { get; init; }

    /// <summary>The input data window (shared with the generator; valid until the next case is generated).</summary>
    public required byte[] Data { get; init; }

    /// <summary>RFLAGS bits to compare: OF DF SF ZF AF PF CF minus what this instance leaves undefined.</summary>
    public ulong FlagsMask { get; set; }

    /// <summary>GPRs (bit n = encoding n) whose output is undefined, e.g. BSF's destination for a zero source.</summary>
    public ushort IgnoredGprs { get; set; }

    /// <summary>A byte range of the data window whose output is undefined (offset from DataBase, length).</summary>
    public (int Offset, int Length) IgnoredData { get; set; }

    /// <summary>Memory the instruction reads or writes (address, size), shown in failure messages.</summary>
    public List<(ulong Address, int Size)> MemoryOperands { get; } = [];

    /// <summary>Where the guest runs the code; differs from the host's address only for RIP-independent code.</summary>
    public ulong GuestCodeAddress { get; set; } = DiffLayout.CodeAddress;

    /// <summary>Why some output is masked, shown in failure messages.</summary>
    public string? Note { get; set; }
}
