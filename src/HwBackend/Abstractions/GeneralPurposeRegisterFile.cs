using System.Runtime.CompilerServices;

namespace Actors.HwBackend.Abstractions;

/// <summary>RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15, indexed in encoding order; a value, so reading it allocates nothing.</summary>
[InlineArray(16)]
public struct GeneralPurposeRegisterFile
{
    private ulong _rax;
}
