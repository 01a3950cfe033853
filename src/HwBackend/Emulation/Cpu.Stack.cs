namespace Actors.HwBackend.Emulation;

/// <summary>
/// Stack pushes and pops for every mode: the stack-address size comes from the mode (64) or SS.B
/// (32 or 16), the operand size from the instruction. The write happens before RSP changes, so a
/// fault leaves RSP as it was.
/// </summary>
internal sealed unsafe partial class Cpu
{
    public int StackAddressBits => Bitness == 64 ? 64 : Segs[SS].DefaultBig ? 32 : 16;

    private ulong StackLinear(ulong sp) => (SegBase[SS] + sp) & LinearMask;

    private ulong WithStackPointer(ulong newSp) => StackAddressBits switch
    {
        64 => newSp,
        32 => (uint)newSp,
        _ => (Regs[RSP] & ~0xFFFFUL) | (ushort)newSp,
    };

    private ulong MaskStackPointer(ulong sp) => StackAddressBits switch
    {
        64 => sp,
        32 => (uint)sp,
        _ => (ushort)sp,
    };

    public void PushSized(ulong value, int size)
    {
        ulong sp = MaskStackPointer(Regs[RSP] - (ulong)size);
        WriteSized(StackLinear(sp), size, value);
        Regs[RSP] = WithStackPointer(sp);
    }

    public ulong PopSized(int size)
    {
        ulong sp = MaskStackPointer(Regs[RSP]);
        ulong v = ReadSized(StackLinear(sp), size);
        Regs[RSP] = WithStackPointer(sp + (ulong)size);
        return v;
    }

    /// <summary>Reads the stack at RSP + <paramref name="offset"/> without popping (far RET and IRET check before committing).</summary>
    public ulong PeekStack(int offset, int size) =>
        ReadSized(StackLinear(MaskStackPointer(Regs[RSP] + (ulong)offset)), size);

    /// <summary>Linear address of SS:(RSP + <paramref name="offset"/>), wrapping as the stack-address size does (PUSHA/POPA address all their slots before committing).</summary>
    public ulong StackSlotAddress(long offset) => StackLinear(MaskStackPointer(Regs[RSP] + (ulong)offset));

    public void AdjustStack(long delta) => Regs[RSP] = WithStackPointer(MaskStackPointer(Regs[RSP] + (ulong)delta));

    public void Push16(ushort v) => PushSized(v, 2);

    public ulong ReadSized(ulong la, int size) => size switch
    {
        1 => Read8(la),
        2 => Read16(la),
        4 => Read32(la),
        _ => Read64(la),
    };

    public void WriteSized(ulong la, int size, ulong v)
    {
        switch (size)
        {
            case 1: Write8(la, (byte)v); break;
            case 2: Write16(la, (ushort)v); break;
            case 4: Write32(la, (uint)v); break;
            default: Write64(la, v); break;
        }
    }

    public ulong ReadReg(int r, int size) => size switch
    {
        1 => Size8.ReadReg(this, r),
        2 => (ushort)Regs[r],
        4 => (uint)Regs[r],
        _ => Regs[r],
    };

    public void WriteReg(int r, int size, ulong v)
    {
        switch (size)
        {
            case 1: Size8.WriteReg(this, r, v); break;
            case 2: Size16.WriteReg(this, r, v); break;
            case 4: Regs[r] = (uint)v; break;
            default: Regs[r] = v; break;
        }
    }
}
