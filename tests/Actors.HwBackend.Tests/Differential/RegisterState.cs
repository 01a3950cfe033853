using System.Buffers.Binary;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>The user-visible register state a single-instruction test sets and compares.</summary>
internal sealed class RegisterState
{
    public const int XmmCount = 16;

    /// <summary>RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15 in encoding order (same as VpState).</summary>
    public ulong[] Gprs { get; } = new ulong[16];

    public ulong Rflags { get; set; } = 0x2;

    /// <summary>XMM0..XMM15, 16 little-endian bytes each.</summary>
    public byte[] Xmm { get; } = new byte[XmmCount * 16];

    public uint Mxcsr { get; set; } = 0x1F80;

    /// <summary>
    /// FS base for FS-prefixed operands. Input only: it must equal the host thread's FS base (its
    /// TLS pointer, which the host test cannot change), and the guest is given the same.
    /// </summary>
    public ulong FsBase { get; set; }

    public RegisterState Clone()
    {
        var c = new RegisterState { Rflags = Rflags, Mxcsr = Mxcsr, FsBase = FsBase };
        Gprs.CopyTo(c.Gprs, 0);
        Xmm.CopyTo(c.Xmm, 0);
        return c;
    }

    public ulong XmmLow(int reg) => BinaryPrimitives.ReadUInt64LittleEndian(Xmm.AsSpan(reg * 16));

    public ulong XmmHigh(int reg) => BinaryPrimitives.ReadUInt64LittleEndian(Xmm.AsSpan(reg * 16 + 8));

    public void SetXmm(int reg, ulong low, ulong high)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Xmm.AsSpan(reg * 16), low);
        BinaryPrimitives.WriteUInt64LittleEndian(Xmm.AsSpan(reg * 16 + 8), high);
    }

    public string XmmText(int reg) => $"{XmmHigh(reg):x16}_{XmmLow(reg):x16}";

    public static readonly string[] GprNames =
        ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
}
