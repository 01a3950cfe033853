namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>
/// The BCD and ASCII adjustments DAA, DAS, AAA, AAS, AAM, AAD, as in the Intel SDM vol. 2 pseudocode.
/// All are invalid in 64-bit mode (Iced decodes them as invalid there, which gives #UD). Flags the SDM
/// leaves undefined are given fixed values: SF/ZF/PF from AL where the SDM does not define them, OF
/// (and for AAM/AAD also AF, CF) cleared.
/// </summary>
internal static unsafe class DecimalAdjustHandlers
{
    private const int AL = Cpu.RAX, AH = 16;

    /// <summary>DAA: adjust AL after adding two packed-BCD values.</summary>
    public static int Daa(Cpu c, Op* op)
    {
        ulong al = c.ReadReg(AL, 1), oldAl = al;
        bool oldCf = c.CF, af = false, cf;
        if ((al & 0xF) > 9 || c.AF)
        {
            al += 6;
            af = true;
        }
        if (oldAl > 0x99 || oldCf)
        {
            al += 0x60;
            cf = true;
        }
        else
        {
            cf = false;
        }
        Finish(c, (byte)al, cf, af);
        return Handler.Continue;
    }

    /// <summary>DAS: adjust AL after subtracting two packed-BCD values. Unlike DAA, CF keeps the borrow of the first step when the second does not apply.</summary>
    public static int Das(Cpu c, Op* op)
    {
        ulong al = c.ReadReg(AL, 1), oldAl = al;
        bool oldCf = c.CF, af = false, cf = false;
        if ((al & 0xF) > 9 || c.AF)
        {
            cf = oldCf || al < 6;
            al -= 6;
            af = true;
        }
        if (oldAl > 0x99 || oldCf)
        {
            al -= 0x60;
            cf = true;
        }
        Finish(c, (byte)al, cf, af);
        return Handler.Continue;
    }

    /// <summary>AAA: adjust AX after adding two unpacked-BCD digits: AX += 106h when a decimal carry is due, then AL &amp;= 0Fh.</summary>
    public static int Aaa(Cpu c, Op* op)
    {
        ulong ax = c.ReadReg(Cpu.RAX, 2);
        bool adjust = (ax & 0xF) > 9 || c.AF;
        if (adjust) ax += 0x106;
        ax = (ax & 0xFF00) | (ax & 0x0F);
        c.WriteReg(Cpu.RAX, 2, ax);
        Finish(c, (byte)ax, adjust, adjust);
        return Handler.Continue;
    }

    /// <summary>AAS: adjust AX after subtracting unpacked-BCD digits: AX -= 6 and AH -= 1 when a decimal borrow is due, then AL &amp;= 0Fh.</summary>
    public static int Aas(Cpu c, Op* op)
    {
        ulong ax = c.ReadReg(Cpu.RAX, 2);
        bool adjust = (ax & 0xF) > 9 || c.AF;
        if (adjust)
        {
            ax = (ax - 6) & 0xFFFF;
            ax = (ax - 0x100) & 0xFFFF;
        }
        ax = (ax & 0xFF00) | (ax & 0x0F);
        c.WriteReg(Cpu.RAX, 2, ax);
        Finish(c, (byte)ax, adjust, adjust);
        return Handler.Continue;
    }

    /// <summary>AAM imm8: AH = AL / imm8, AL = AL mod imm8; #DE when imm8 is 0.</summary>
    public static int Aam(Cpu c, Op* op)
    {
        byte radix = (byte)op->Imm;
        if (radix == 0) throw new CpuFault(ExceptionVector.DE, 0, false);
        ulong al = c.ReadReg(AL, 1);
        c.WriteReg(AH, 1, al / radix);
        c.WriteReg(AL, 1, al % radix);
        Finish(c, (byte)(al % radix), cf: false, af: false);
        return Handler.Continue;
    }

    /// <summary>AAD imm8: AL = (AL + AH * imm8) &amp; FFh, AH = 0.</summary>
    public static int Aad(Cpu c, Op* op)
    {
        ulong al = c.ReadReg(AL, 1), ah = c.ReadReg(AH, 1);
        byte result = (byte)(al + (ah * (byte)op->Imm));
        c.WriteReg(Cpu.RAX, 2, result);
        Finish(c, result, cf: false, af: false);
        return Handler.Continue;
    }

    /// <summary>Writes AL for DAA/DAS and sets SF, ZF, PF from it, CF and AF as given, OF cleared.</summary>
    private static void Finish(Cpu c, byte al, bool cf, bool af)
    {
        c.WriteReg(AL, 1, al);
        ulong flags = 0;
        if (cf) flags |= RflagsBits.CF;
        if (af) flags |= RflagsBits.AF;
        if (al == 0) flags |= RflagsBits.ZF;
        if ((al & 0x80) != 0) flags |= RflagsBits.SF;
        if ((System.Numerics.BitOperations.PopCount(al) & 1) == 0) flags |= RflagsBits.PF;
        c.SetArithmeticFlags(flags);
    }
}
