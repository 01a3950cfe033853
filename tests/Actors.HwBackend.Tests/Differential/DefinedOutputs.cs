using Iced.Intel;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// Decides which outputs of one instruction instance are architecturally defined. Iced's static
/// <c>RflagsUndefined</c> is the base; shifts and rotates depend on the actual count, which only
/// the instance knows, and some destinations are undefined for particular inputs.
/// </summary>
internal static class DefinedOutputs
{
    public const ulong CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800;
    public const ulong StatusFlags = CF | PF | AF | ZF | SF | OF;
    public const ulong Compared = StatusFlags | DF;

    public static ulong ToRflags(RflagsBits bits)
    {
        ulong r = 0;
        if ((bits & RflagsBits.CF) != 0) r |= CF;
        if ((bits & RflagsBits.PF) != 0) r |= PF;
        if ((bits & RflagsBits.AF) != 0) r |= AF;
        if ((bits & RflagsBits.ZF) != 0) r |= ZF;
        if ((bits & RflagsBits.SF) != 0) r |= SF;
        if ((bits & RflagsBits.DF) != 0) r |= DF;
        if ((bits & RflagsBits.OF) != 0) r |= OF;
        return r;
    }

    public static string FlagNames(ulong flags)
    {
        var parts = new List<string>();
        if ((flags & OF) != 0) parts.Add("OF");
        if ((flags & DF) != 0) parts.Add("DF");
        if ((flags & SF) != 0) parts.Add("SF");
        if ((flags & ZF) != 0) parts.Add("ZF");
        if ((flags & AF) != 0) parts.Add("AF");
        if ((flags & PF) != 0) parts.Add("PF");
        if ((flags & CF) != 0) parts.Add("CF");
        return parts.Count == 0 ? "-" : string.Join(' ', parts);
    }

    public static void Apply(DiffCase c)
    {
        var ins = c.Instruction;
        var input = c.Input;
        ulong undefined = ToRflags(ins.RflagsUndefined);

        switch (ins.Mnemonic)
        {
            case Mnemonic.Shl:
            case Mnemonic.Shr:
            case Mnemonic.Sar:
            case Mnemonic.Sal:
                {
                    int width = DestinationBits(ins);
                    int count = (int)(Count(ins, 1, input) & (width == 64 ? 63u : 31u));
                    if (count == 0)
                    {
                        undefined = 0;
                        c.Note = "masked count 0: no flag changes";
                    }
                    else
                    {
                        // AF is always undefined; OF only for 1-bit shifts; CF once SHL/SHR shift all bits out.
                        undefined = AF | (count == 1 ? 0 : OF);
                        if (ins.Mnemonic != Mnemonic.Sar && count >= width)
                            undefined |= CF;
                    }
                    break;
                }
            case Mnemonic.Rol:
            case Mnemonic.Ror:
            case Mnemonic.Rcl:
            case Mnemonic.Rcr:
                {
                    int width = DestinationBits(ins);
                    int count = (int)(Count(ins, 1, input) & (width == 64 ? 63u : 31u));
                    undefined = count == 0 ? 0 : count == 1 ? 0 : OF;
                    if (count == 0)
                        c.Note = "masked count 0: no flag changes";
                    break;
                }
            case Mnemonic.Shld:
            case Mnemonic.Shrd:
                {
                    int width = DestinationBits(ins);
                    int count = (int)(Count(ins, 2, input) & (width == 64 ? 63u : 31u));
                    if (count == 0)
                    {
                        undefined = 0;
                        c.Note = "masked count 0: no flag changes";
                    }
                    else if (count > width)
                    {
                        // Only 16-bit forms get here: result and all flags undefined.
                        undefined = StatusFlags;
                        IgnoreDestination(c);
                        c.Note = "count > operand size: result and flags undefined";
                    }
                    else
                    {
                        undefined = AF | (count == 1 ? 0 : OF);
                    }
                    break;
                }
            case Mnemonic.Bsf:
            case Mnemonic.Bsr:
                {
                    if (SourceValue(c, 1) == 0)
                    {
                        // Intel: destination undefined; AMD: unchanged. Vendor-neutral: ignore it.
                        IgnoreDestination(c);
                        c.Note = "zero source: destination undefined";
                    }
                    break;
                }
        }

        c.FlagsMask = Compared & ~undefined;
    }

    /// <summary>Width in bits of operand 0 (register or memory).</summary>
    public static int DestinationBits(in Instruction ins) =>
        ins.Op0Kind == OpKind.Register ? ins.Op0Register.GetSize() * 8 : ins.MemorySize.GetSize() * 8;

    private static ulong Count(in Instruction ins, int op, RegisterState input) =>
        ins.GetOpKind(op) switch
        {
            OpKind.Register => input.Gprs[1] & 0xFF, // always CL
            OpKind.Immediate8 => ins.Immediate8,
            _ => throw new InvalidOperationException($"unexpected count operand in {ins}"),
        };

    private static void IgnoreDestination(DiffCase c)
    {
        var ins = c.Instruction;
        if (ins.Op0Kind == OpKind.Register)
        {
            c.IgnoredGprs |= (ushort)(1 << GprIndex(ins.Op0Register));
        }
        else
        {
            ulong addr = MemoryAddress(ins, c.Input);
            c.IgnoredData = ((int)(addr - DiffLayout.DataBase), ins.MemorySize.GetSize());
        }
    }

    /// <summary>The value of operand <paramref name="op"/> before execution (GPR or memory, zero-extended).</summary>
    public static ulong SourceValue(DiffCase c, int op)
    {
        var ins = c.Instruction;
        if (ins.GetOpKind(op) == OpKind.Register)
            return ReadRegister(c.Input, ins.GetOpRegister(op));
        ulong addr = MemoryAddress(ins, c.Input);
        int size = ins.MemorySize.GetSize();
        ulong v = 0;
        for (int i = size - 1; i >= 0; i--)
            v = (v << 8) | c.Data[(int)(addr - DiffLayout.DataBase) + i];
        return v;
    }

    public static int GprIndex(Register r) => r.GetFullRegister() - Register.RAX;

    public static ulong ReadRegister(RegisterState s, Register r)
    {
        if (r >= Register.AH && r <= Register.BH)
            return (s.Gprs[r - Register.AH] >> 8) & 0xFF;
        return s.Gprs[GprIndex(r)] & Rng.Mask(r.GetSize() * 8);
    }

    public static ulong MemoryAddress(in Instruction ins, RegisterState s)
    {
        ulong segment = ins.MemorySegment == Register.FS ? s.FsBase : 0;
        if (ins.IsIPRelativeMemoryOperand)
            return segment + ins.IPRelativeMemoryAddress;
        ulong addr = ins.MemoryDisplacement64;
        if (ins.MemoryBase != Register.None)
            addr += ReadRegister(s, ins.MemoryBase);
        if (ins.MemoryIndex != Register.None)
            addr += ReadRegister(s, ins.MemoryIndex) * (ulong)ins.MemoryIndexScale;
        // 32-bit addressing (0x67) wraps the offset at 4 GiB before the segment base is added.
        bool addr32 = ins.MemoryBase.GetSize() == 4 || ins.MemoryIndex.GetSize() == 4
            || (ins.MemoryBase == Register.None && ins.MemoryIndex == Register.None && ins.MemoryDisplSize == 4);
        if (addr32)
            addr &= 0xFFFF_FFFF;
        return segment + addr;
    }
}
