using System.Numerics;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>BT, BTS, BTR, BTC (Aux 0..3); BSF, BSR, TZCNT, LZCNT, POPCNT (Aux 0..4 of <see cref="Scan{S}"/>).</summary>
internal static unsafe class BitHandlers
{
    /// <summary>
    /// Bit test family. With a register bit offset and a memory operand the offset is a signed bit
    /// index relative to the operand (it can address far beyond it); otherwise it is taken modulo the size.
    /// </summary>
    public static int BitTest<S>(Cpu c, Op* op) where S : IOperandSize
    {
        int bits = S.Bits;
        bool regOffset = op->K1 == OperandKind.Register;
        ulong offset = regOffset ? S.ReadReg(c, op->R2) : op->Imm;
        if (op->K0 == OperandKind.Register)
        {
            int bit = (int)(offset & (ulong)(bits - 1));
            ulong v = S.ReadReg(c, op->R1);
            bool cf = ((v >> bit) & 1) != 0;
            c.SetCarryOnly(cf);
            if (op->Aux != 0) S.WriteReg(c, op->R1, Modify(op->Aux, v, bit));
            return Handler.Continue;
        }
        ulong la = Handler.Ea(c, op);
        int b;
        if (regOffset)
        {
            long signedOffset = (long)S.SignExtend(offset);
            la = (la + (ulong)((signedOffset >> (BitOperations.Log2((uint)bits))) * (bits / 8))) & c.LinearMask;
            b = (int)(offset & (ulong)(bits - 1));
        }
        else
        {
            b = (int)(offset & (ulong)(bits - 1));
        }
        ulong m = S.Read(c, la);
        c.SetCarryOnly(((m >> b) & 1) != 0);
        if (op->Aux == 0) return Handler.Continue;
        S.Write(c, la, Modify(op->Aux, m, b));
        return Handler.AfterWrite(c, op);
    }

    private static ulong Modify(int kind, ulong v, int bit) => kind switch
    {
        1 => v | (1UL << bit),
        2 => v & ~(1UL << bit),
        _ => v ^ (1UL << bit),
    };

    public static int Scan<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ulong src = op->K1 == OperandKind.Memory ? S.Read(c, Handler.Ea(c, op)) : S.ReadReg(c, op->R2);
        int bits = S.Bits;
        switch (op->Aux)
        {
            case 0: // BSF: destination unchanged when the source is zero (AMD documents it, Intel does it)
            case 1: // BSR
                if (src == 0)
                {
                    c.SetArithmeticFlags(RflagsBits.ZF);
                    return Handler.Continue;
                }
                S.WriteReg(c, op->R1, op->Aux == 0 ? (ulong)BitOperations.TrailingZeroCount(src) : (ulong)(63 - BitOperations.LeadingZeroCount(src)));
                c.SetArithmeticFlags(0);
                return Handler.Continue;
            case 2: // TZCNT
                {
                    ulong n = src == 0 ? (ulong)bits : (ulong)BitOperations.TrailingZeroCount(src);
                    S.WriteReg(c, op->R1, n);
                    c.SetArithmeticFlags((src == 0 ? RflagsBits.CF : 0) | (n == 0 ? RflagsBits.ZF : 0));
                    return Handler.Continue;
                }
            case 3: // LZCNT
                {
                    ulong n = src == 0 ? (ulong)bits : (ulong)(BitOperations.LeadingZeroCount(src) - (64 - bits));
                    S.WriteReg(c, op->R1, n);
                    c.SetArithmeticFlags((src == 0 ? RflagsBits.CF : 0) | (n == 0 ? RflagsBits.ZF : 0));
                    return Handler.Continue;
                }
            default: // POPCNT
                S.WriteReg(c, op->R1, (ulong)BitOperations.PopCount(src));
                c.SetArithmeticFlags(src == 0 ? RflagsBits.ZF : 0);
                return Handler.Continue;
        }
    }
}
