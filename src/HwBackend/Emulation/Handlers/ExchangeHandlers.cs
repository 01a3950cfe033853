namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>CMPXCHG, XADD, CMPXCHG8B, CMPXCHG16B. Memory forms use host atomics when the operand is in one RAM page.</summary>
internal static unsafe class ExchangeHandlers
{
    public static int Cmpxchg<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ulong acc = S.ReadReg(c, Cpu.RAX);
        ulong src = S.ReadReg(c, op->R2);
        if (op->K0 == OperandKind.Register)
        {
            ulong d = S.ReadReg(c, op->R1);
            CmpOp.Apply<S>(c, acc, d);
            if (acc == d) S.WriteReg(c, op->R1, src);
            else S.WriteReg(c, Cpu.RAX, d);
            return Handler.Continue;
        }
        ulong la = Handler.Ea(c, op);
        byte* p = c.TryWritablePointer(la, S.Bits / 8);
        ulong old;
        if (p != null)
        {
            while (true)
            {
                old = Atomic.Load<S>(p);
                if (old != acc || Atomic.CompareExchange<S>(p, old, src)) break;
            }
        }
        else
        {
            old = S.Read(c, la);
            // The destination is written either way, as on hardware (with its own value when unequal).
            S.Write(c, la, old == acc ? src : old);
        }
        CmpOp.Apply<S>(c, acc, old);
        if (old != acc) S.WriteReg(c, Cpu.RAX, old);
        return Handler.AfterWrite(c, op);
    }

    public static int Xadd<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ulong src = S.ReadReg(c, op->R2);
        if (op->K0 == OperandKind.Register)
        {
            ulong d = S.ReadReg(c, op->R1);
            ulong sum = AddOp.Apply<S>(c, d, src);
            S.WriteReg(c, op->R2, d);
            S.WriteReg(c, op->R1, sum);
            return Handler.Continue;
        }
        ulong la = Handler.Ea(c, op);
        byte* p = c.TryWritablePointer(la, S.Bits / 8);
        ulong old;
        if (p != null)
        {
            while (true)
            {
                old = Atomic.Load<S>(p);
                if (Atomic.CompareExchange<S>(p, old, old + src)) break;
            }
        }
        else
        {
            old = S.Read(c, la);
            S.Write(c, la, old + src);
        }
        AddOp.Apply<S>(c, old, src);
        S.WriteReg(c, op->R2, old);
        return Handler.AfterWrite(c, op);
    }

    /// <summary>CMPXCHG8B (Aux 0) and CMPXCHG16B (Aux 1, 16-byte alignment required).</summary>
    public static int CmpxchgWide(Cpu c, Op* op)
    {
        ulong la = Handler.Ea(c, op);
        if (op->Aux == 0)
        {
            ulong expected = ((ulong)(uint)c.Regs[Cpu.RDX] << 32) | (uint)c.Regs[Cpu.RAX];
            ulong desired = ((ulong)(uint)c.Regs[Cpu.RCX] << 32) | (uint)c.Regs[Cpu.RBX];
            byte* p = c.TryWritablePointer(la, 8);
            ulong old;
            if (p != null) old = Interlocked.CompareExchange(ref *(ulong*)p, desired, expected);
            else
            {
                old = c.Read64(la);
                c.Write64(la, old == expected ? desired : old);
            }
            bool eq = old == expected;
            c.SetZeroFlagOnly(eq);
            if (!eq)
            {
                c.Regs[Cpu.RAX] = (uint)old;
                c.Regs[Cpu.RDX] = old >> 32;
            }
            return Handler.AfterWrite(c, op);
        }
        if ((la & 15) != 0) throw new CpuFault(ExceptionVector.GP, 0, true);
        c.ProbeWrite(la, 16);
        // Guest RAM is shared between vCPU threads; a lock per machine keeps the 16-byte update atomic.
        lock (c.Machine.WideAtomicLock)
        {
            ulong lo = c.Read64(la), hi = c.Read64(la + 8);
            bool eq = lo == c.Regs[Cpu.RAX] && hi == c.Regs[Cpu.RDX];
            if (eq)
            {
                c.Write64(la, c.Regs[Cpu.RBX]);
                c.Write64(la + 8, c.Regs[Cpu.RCX]);
            }
            else
            {
                c.Write64(la, lo);
                c.Write64(la + 8, hi);
                c.Regs[Cpu.RAX] = lo;
                c.Regs[Cpu.RDX] = hi;
            }
            c.SetZeroFlagOnly(eq);
        }
        return Handler.AfterWrite(c, op);
    }
}
