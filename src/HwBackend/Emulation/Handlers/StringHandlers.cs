using System.Runtime.CompilerServices;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>
/// MOVS, STOS, LODS, CMPS, SCAS, INS, OUTS with REP/REPE/REPNE. Aux = operation (see constants),
/// OpSize = element size, AddrMask = address size, Seg = source segment (destination is always ES),
/// Imm = repeat kind (0 none, 1 REP/REPE, 2 REPNE). A repeated instruction runs a bounded number of
/// iterations per call and then re-executes itself, so interrupts and stop requests are seen during
/// long copies; REP MOVSB/STOSB forward copies go a page at a time through host pointers. Under
/// RFLAGS.TF a call runs one iteration, so each iteration is single-stepped (SDM 18.3.1.4). Stopping
/// before the last iteration sets RF: the RFLAGS image an interrupt or #DB trap pushes there has RF
/// set (SDM 18.3.1.1), and resuming does not fire the instruction's breakpoint again.
/// </summary>
internal static unsafe class StringHandlers
{
    public const byte Movs = 0, Stos = 1, Lods = 2, Cmps = 3, Scas = 4, Ins = 5, Outs = 6;

    private const int IterationsPerSlice = 1 << 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Src(Cpu c, Op* op) => ((c.Regs[Cpu.RSI] & op->AddrMask) + c.SegBase[op->Seg]) & c.LinearMask;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Dst(Cpu c, Op* op) => ((c.Regs[Cpu.RDI] & op->AddrMask) + c.SegBase[Cpu.ES]) & c.LinearMask;

    /// <summary>Adds to an index register within the address size, leaving the bits above it as they were.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Advance(Cpu c, Op* op, int reg, long delta)
    {
        ulong m = op->AddrMask;
        ulong v = c.Regs[reg];
        ulong nv = (v + (ulong)delta) & m;
        c.Regs[reg] = m == 0xFFFF_FFFF ? nv : (v & ~m) | nv;
    }

    public static int Execute(Cpu c, Op* op)
    {
        int size = op->OpSize;
        long step = c.DF ? -size : size;
        int kind = op->Aux;
        if (op->Imm == 0)
        {
            int r = One(c, op, kind, size, step);
            if (r == Handler.Exit) return r;
            if (kind is Outs)
            {
                c.Rip = op->NextIp;
                return Handler.Exit;
            }
            return Handler.AfterWrite(c, op);
        }

        ulong count = c.Regs[Cpu.RCX] & op->AddrMask;
        if (count == 0) return Handler.Continue;
        bool stepping = (c.FlagsOther & RflagsBits.TF) != 0;
        if (kind is Movs or Stos && size == 1 && step > 0 && !stepping)
        {
            if (BulkForward(c, op, kind)) count = c.Regs[Cpu.RCX] & op->AddrMask;
            if (count == 0) return Handler.AfterWrite(c, op);
        }

        int slice = stepping ? 1 : IterationsPerSlice;
        for (int i = 0; i < slice; i++)
        {
            int r = One(c, op, kind, size, step);
            if (r == Handler.Exit)
            {
                // An INS waiting for its value: RIP stays, nothing counted yet.
                return r;
            }
            count = (count - 1) & op->AddrMask;
            Advance(c, op, Cpu.RCX, -1);
            bool done = count == 0 || (kind is Cmps or Scas && (op->Imm == 1) != c.ZF);
            if (kind is Outs || c.WriteEvent != 0)
            {
                // Each port write or MMIO write is its own exit; the instruction resumes with the rest.
                int e = kind is Outs ? Handler.Exit : c.WriteEvent;
                c.WriteEvent = 0;
                if (done)
                {
                    c.Rip = op->NextIp;
                }
                else
                {
                    c.Rip = op->Ip;
                    c.FlagsOther |= RflagsBits.RF;
                }
                return e;
            }
            if (done) return Handler.Continue;
        }
        // Time slice used up: run this instruction again after checking for events.
        c.Rip = op->Ip;
        c.FlagsOther |= RflagsBits.RF;
        return Handler.EndBlock;
    }

    private static int One(Cpu c, Op* op, int kind, int size, long step)
    {
        switch (kind)
        {
            case Movs:
                c.WriteSized(Dst(c, op), size, c.ReadSized(Src(c, op), size));
                Advance(c, op, Cpu.RSI, step);
                Advance(c, op, Cpu.RDI, step);
                return Handler.Continue;
            case Stos:
                c.WriteSized(Dst(c, op), size, c.ReadReg(Cpu.RAX, size));
                Advance(c, op, Cpu.RDI, step);
                return Handler.Continue;
            case Lods:
                c.WriteReg(Cpu.RAX, size, c.ReadSized(Src(c, op), size));
                Advance(c, op, Cpu.RSI, step);
                return Handler.Continue;
            case Cmps:
                {
                    ulong a = c.ReadSized(Src(c, op), size), b = c.ReadSized(Dst(c, op), size);
                    Compare(c, size, a, b);
                    Advance(c, op, Cpu.RSI, step);
                    Advance(c, op, Cpu.RDI, step);
                    return Handler.Continue;
                }
            case Scas:
                Compare(c, size, c.ReadReg(Cpu.RAX, size), c.ReadSized(Dst(c, op), size));
                Advance(c, op, Cpu.RDI, step);
                return Handler.Continue;
            case Ins:
                {
                    ulong dst = Dst(c, op);
                    c.ProbeWrite(dst, size);
                    if (!c.TryTakePortIn((ushort)c.Regs[Cpu.RDX], size, out ulong v))
                    {
                        c.Rip = op->Ip;
                        return Handler.Exit;
                    }
                    c.WriteSized(dst, size, v);
                    Advance(c, op, Cpu.RDI, step);
                    return Handler.Continue;
                }
            default:
                c.PortOut((ushort)c.Regs[Cpu.RDX], size, c.ReadSized(Src(c, op), size));
                Advance(c, op, Cpu.RSI, step);
                return Handler.Continue;
        }
    }

    private static void Compare(Cpu c, int size, ulong a, ulong b)
    {
        switch (size)
        {
            case 1: CmpOp.Apply<Size8>(c, a, b); break;
            case 2: CmpOp.Apply<Size16>(c, a, b); break;
            case 4: CmpOp.Apply<Size32>(c, a, b); break;
            default: CmpOp.Apply<Size64>(c, a, b); break;
        }
    }

    /// <summary>
    /// REP MOVSB / REP STOSB forward, a page-bounded chunk at a time straight between host pointers.
    /// Falls back (returns having done part or none) at MMIO, code pages, faults or overlapping copies
    /// where byte order matters; the element loop then finishes with exact semantics.
    /// </summary>
    private static bool BulkForward(Cpu c, Op* op, int kind)
    {
        bool any = false;
        ulong count = c.Regs[Cpu.RCX] & op->AddrMask;
        while (count > 0)
        {
            ulong dst = Dst(c, op);
            int chunk = (int)Math.Min(count, 0x1000 - (dst & 0xFFF));
            if (kind == Movs)
            {
                ulong src = Src(c, op);
                chunk = (int)Math.Min((ulong)chunk, 0x1000 - (src & 0xFFF));
                if (src < dst && src + (ulong)chunk > dst) return any;
                byte* d = c.TryWritablePointer(dst, chunk);
                if (d == null) return any;
                byte* s = c.TryReadablePointer(src, chunk);
                if (s == null) return any;
                Buffer.MemoryCopy(s, d, chunk, chunk);
                Advance(c, op, Cpu.RSI, chunk);
            }
            else
            {
                byte* d = c.TryWritablePointer(dst, chunk);
                if (d == null) return any;
                new Span<byte>(d, chunk).Fill((byte)c.Regs[Cpu.RAX]);
            }
            Advance(c, op, Cpu.RDI, chunk);
            Advance(c, op, Cpu.RCX, -chunk);
            count -= (ulong)chunk;
            any = true;
        }
        return any;
    }
}
