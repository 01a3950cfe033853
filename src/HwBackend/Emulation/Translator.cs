using Actors.HwBackend.Emulation.Handlers;
using Iced.Intel;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// Turns one Iced <see cref="Instruction"/> into an <see cref="Op"/>: extracts operands into plain
/// fields and picks a handler specialised for the operation, operand form and size. Runs once per
/// instruction per block build, so it may be as slow as it likes; the handler it picks may not.
/// </summary>
internal static unsafe class Translator
{
    /// <summary>Fills <paramref name="op"/>; returns true when the instruction must end its block.</summary>
    public static bool Translate(in Instruction ins, Op* op, int bitness)
    {
        *op = default;
        op->Instr = ins;
        op->NextIp = ins.NextIP;
        op->Length = (byte)ins.Length;
        op->Base = op->Index = Cpu.ZeroReg;
        op->AddrMask = bitness == 64 ? ulong.MaxValue : bitness == 32 ? 0xFFFF_FFFF : 0xFFFF;
        op->K0 = op->K1 = op->K2 = OperandKind.None;

        int count = Math.Min(ins.OpCount, 3);
        for (int i = 0; i < count; i++)
        {
            byte kind = DecodeOperand(in ins, i, op);
            if (i == 0) op->K0 = kind;
            else if (i == 1) op->K1 = kind;
            else op->K2 = kind;
        }
        op->OpSize = (byte)OperandSize(in ins, bitness);

        if (ins.IsInvalid)
        {
            op->Fn = &SystemHandlers.Undefined;
            return true;
        }
        op->Fn = Select(in ins, op, bitness, out bool ends);
        if (op->Fn == null)
        {
            op->Fn = &SystemHandlers.Unimplemented;
            op->Imm = (ulong)ins.Code; // which instruction, for the unimplemented log
            return true;
        }
        return ends || ins.FlowControl != FlowControl.Next;
    }

    private static byte DecodeOperand(in Instruction ins, int i, Op* op)
    {
        switch (ins.GetOpKind(i))
        {
            case OpKind.Register:
                {
                    byte r = RegisterNumber(ins.GetOpRegister(i));
                    if (i == 0) op->R1 = r;
                    else if (i == 1) op->R2 = r;
                    else op->R3 = r;
                    return OperandKind.Register;
                }
            case OpKind.Memory:
                DecodeMemory(in ins, op);
                return OperandKind.Memory;
            case OpKind.Immediate8:
            case OpKind.Immediate16:
            case OpKind.Immediate32:
            case OpKind.Immediate64:
            case OpKind.Immediate8to16:
            case OpKind.Immediate8to32:
            case OpKind.Immediate8to64:
            case OpKind.Immediate32to64:
                op->Imm = ins.GetImmediate(i);
                return OperandKind.Immediate;
            case OpKind.Immediate8_2nd:
                return OperandKind.Immediate;
            case OpKind.NearBranch16:
            case OpKind.NearBranch32:
            case OpKind.NearBranch64:
                op->Imm = ins.NearBranchTarget;
                return OperandKind.Immediate;
            case OpKind.FarBranch16:
                op->Imm = ((ulong)ins.FarBranchSelector << 32) | ins.FarBranch16;
                return OperandKind.Immediate;
            case OpKind.FarBranch32:
                op->Imm = ((ulong)ins.FarBranchSelector << 32) | ins.FarBranch32;
                return OperandKind.Immediate;
            default:
                return OperandKind.Other;
        }
    }

    private static void DecodeMemory(in Instruction ins, Op* op)
    {
        var b = ins.MemoryBase;
        var x = ins.MemoryIndex;
        int addrBits;
        if (b is Register.RIP or Register.EIP)
        {
            op->Base = Cpu.ZeroReg;
            addrBits = b == Register.RIP ? 64 : 32;
        }
        else
        {
            op->Base = b == Register.None ? (byte)Cpu.ZeroReg : RegisterNumber(b);
            addrBits = b != Register.None ? b.GetSize() * 8 : 0;
        }
        if (x != Register.None)
        {
            op->Index = RegisterNumber(x);
            addrBits = x.GetSize() * 8;
        }
        if (addrBits == 0)
        {
            addrBits = ins.MemoryDisplSize switch
            {
                2 => 16,
                4 => 32,
                8 => 64,
                _ => ins.CodeSize switch { CodeSize.Code16 => 16, CodeSize.Code32 => 32, _ => 64 },
            };
        }
        op->Scale = (byte)System.Numerics.BitOperations.Log2((uint)Math.Max(1, ins.MemoryIndexScale));
        op->Disp = ins.MemoryDisplacement64;
        op->AddrMask = addrBits == 64 ? ulong.MaxValue : addrBits == 32 ? 0xFFFF_FFFF : 0xFFFF;
        op->Seg = SegmentNumber(ins.MemorySegment);
    }

    public static byte SegmentNumber(Register r) => r switch
    {
        Register.ES => 0,
        Register.CS => 1,
        Register.SS => 2,
        Register.DS => 3,
        Register.FS => 4,
        Register.GS => 5,
        _ => 3,
    };

    /// <summary>Register number in our register file: GPRs 0..15 (AH..BH as 16..19), XMM 0..15, segments ES=0..GS=5, CRn/DRn as n.</summary>
    public static byte RegisterNumber(Register r)
    {
        if (r.IsGPR8())
        {
            int n = r - Register.AL;
            return (byte)(n < 4 ? n : n < 8 ? 16 + (n - 4) : n - 4);
        }
        if (r.IsGPR16()) return (byte)(r - Register.AX);
        if (r.IsGPR32()) return (byte)(r - Register.EAX);
        if (r.IsGPR64()) return (byte)(r - Register.RAX);
        if (r.IsXMM()) return (byte)(r - Register.XMM0);
        if (r.IsSegmentRegister()) return SegmentNumber(r);
        if (r.IsCR()) return (byte)(r - Register.CR0);
        if (r.IsDR()) return (byte)(r - Register.DR0);
        if (r.IsST()) return (byte)(r - Register.ST0);
        if (r.IsMM()) return (byte)(r - Register.MM0);
        return 0;
    }

    /// <summary>Size in bytes of operand 0 (a register's width, or the memory operand's size).</summary>
    private static int OperandSize(in Instruction ins, int bitness)
    {
        if (ins.OpCount == 0) return bitness == 64 ? 8 : bitness / 8;
        var k = ins.Op0Kind;
        if (k == OpKind.Register) return ins.Op0Register.GetSize();
        if (k == OpKind.Memory) return ins.MemorySize.GetSize();
        return bitness / 8;
    }

    private static int SizeOf(in Instruction ins, int operand) => ins.GetOpKind(operand) switch
    {
        OpKind.Register => ins.GetOpRegister(operand).GetSize(),
        OpKind.Memory => ins.MemorySize.GetSize(),
        _ => 0,
    };

    private static delegate*<Cpu, Op*, int> Select(in Instruction ins, Op* op, int bitness, out bool ends)
    {
        ends = false;
        int size = op->OpSize;
        byte k0 = op->K0, k1 = op->K1;
        bool lockPrefix = ins.HasLockPrefix;

        if (ins.IsStringInstruction) return SelectString(in ins, op);

        switch (ins.Mnemonic)
        {
            case Mnemonic.Add: return Alu<AddOp>(op, size, lockPrefix);
            case Mnemonic.Or: return Alu<OrOp>(op, size, lockPrefix);
            case Mnemonic.Adc: return Alu<AdcOp>(op, size, lockPrefix);
            case Mnemonic.Sbb: return Alu<SbbOp>(op, size, lockPrefix);
            case Mnemonic.And: return Alu<AndOp>(op, size, lockPrefix);
            case Mnemonic.Sub: return Alu<SubOp>(op, size, lockPrefix);
            case Mnemonic.Xor: return Alu<XorOp>(op, size, lockPrefix);
            case Mnemonic.Cmp: return Alu<CmpOp>(op, size, false);
            case Mnemonic.Test: return Alu<TestOp>(op, size, false);

            case Mnemonic.Inc:
                if (k0 == OperandKind.Register) return BySize(size, &AluHandlers.IncR<Size8>, &AluHandlers.IncR<Size16>, &AluHandlers.IncR<Size32>, &AluHandlers.IncR<Size64>);
                if (!ins.HasLockPrefix) return BySize(size, &AluHandlers.IncM<Size8>, &AluHandlers.IncM<Size16>, &AluHandlers.IncM<Size32>, &AluHandlers.IncM<Size64>);
                op->Aux = 0;
                return UnaryMemory(size);
            case Mnemonic.Dec:
                if (k0 == OperandKind.Register) return BySize(size, &AluHandlers.DecR<Size8>, &AluHandlers.DecR<Size16>, &AluHandlers.DecR<Size32>, &AluHandlers.DecR<Size64>);
                if (!ins.HasLockPrefix) return BySize(size, &AluHandlers.DecM<Size8>, &AluHandlers.DecM<Size16>, &AluHandlers.DecM<Size32>, &AluHandlers.DecM<Size64>);
                op->Aux = 1;
                return UnaryMemory(size);
            case Mnemonic.Not:
                if (k0 == OperandKind.Register) return BySize(size, &AluHandlers.NotR<Size8>, &AluHandlers.NotR<Size16>, &AluHandlers.NotR<Size32>, &AluHandlers.NotR<Size64>);
                op->Aux = 2;
                return UnaryMemory(size);
            case Mnemonic.Neg:
                if (k0 == OperandKind.Register) return BySize(size, &AluHandlers.NegR<Size8>, &AluHandlers.NegR<Size16>, &AluHandlers.NegR<Size32>, &AluHandlers.NegR<Size64>);
                op->Aux = 3;
                return UnaryMemory(size);

            case Mnemonic.Mov:
                return SelectMov(in ins, op, size, out ends);
            case Mnemonic.Movzx:
            case Mnemonic.Movsx:
            case Mnemonic.Movsxd:
                op->Aux = ins.Mnemonic == Mnemonic.Movzx ? (byte)0 : (byte)1;
                return Extend(op, size, SizeOf(in ins, 1), k1 == OperandKind.Memory);
            case Mnemonic.Lea:
                return BySize(size, null, &MoveHandlers.Lea<Size16>, &MoveHandlers.Lea<Size32>, &MoveHandlers.Lea<Size64>);
            case Mnemonic.Xchg:
                if (k0 == OperandKind.Memory || k1 == OperandKind.Memory)
                {
                    if (k1 == OperandKind.Memory) op->R2 = op->R1;
                    return BySize(size, &MoveHandlers.XchgMR<Size8>, &MoveHandlers.XchgMR<Size16>, &MoveHandlers.XchgMR<Size32>, &MoveHandlers.XchgMR<Size64>);
                }
                return BySize(size, &MoveHandlers.XchgRR<Size8>, &MoveHandlers.XchgRR<Size16>, &MoveHandlers.XchgRR<Size32>, &MoveHandlers.XchgRR<Size64>);
            case Mnemonic.Bswap:
                return BySize(size, null, &MoveHandlers.Bswap<Size16>, &MoveHandlers.Bswap<Size32>, &MoveHandlers.Bswap<Size64>);
            case Mnemonic.Cbw: return &MoveHandlers.ExtendAccumulator<Size16>;
            case Mnemonic.Cwde: return &MoveHandlers.ExtendAccumulator<Size32>;
            case Mnemonic.Cdqe: return &MoveHandlers.ExtendAccumulator<Size64>;
            case Mnemonic.Cwd: return &MoveHandlers.SignToDx<Size16>;
            case Mnemonic.Cdq: return &MoveHandlers.SignToDx<Size32>;
            case Mnemonic.Cqo: return &MoveHandlers.SignToDx<Size64>;
            case Mnemonic.Lahf: return &MoveHandlers.Lahf;
            case Mnemonic.Sahf: return &MoveHandlers.Sahf;
            case Mnemonic.Clc: op->Aux = 0; return &MoveHandlers.FlagOp;
            case Mnemonic.Stc: op->Aux = 1; return &MoveHandlers.FlagOp;
            case Mnemonic.Cmc: op->Aux = 2; return &MoveHandlers.FlagOp;
            case Mnemonic.Cld: op->Aux = 3; return &MoveHandlers.FlagOp;
            case Mnemonic.Std: op->Aux = 4; return &MoveHandlers.FlagOp;
            case Mnemonic.Xlatb:
                op->Index = Cpu.ZeroReg; // the index is AL, added by the handler
                return &MoveHandlers.Xlat;

            case Mnemonic.Nop:
            case Mnemonic.Pause:
            case Mnemonic.Endbr64:
            case Mnemonic.Endbr32:
            case Mnemonic.Lfence:
            case Mnemonic.Mfence:
            case Mnemonic.Sfence:
            case Mnemonic.Prefetchnta:
            case Mnemonic.Prefetcht0:
            case Mnemonic.Prefetcht1:
            case Mnemonic.Prefetcht2:
            case Mnemonic.Prefetchw:
            case Mnemonic.Clflush:
                return &MoveHandlers.Nop;

            case Mnemonic.Push:
                if (k0 == OperandKind.Register && ins.Op0Register.IsSegmentRegister())
                {
                    op->OpSize = (byte)(bitness == 64 ? 8 : StackOperandSize(in ins, bitness));
                    return &SegmentHandlers.PushSeg;
                }
                if (bitness == 64 && k0 == OperandKind.Register && size == 8) return &StackHandlers.Push64R;
                if (bitness == 32 && k0 == OperandKind.Register && size == 4) return &StackHandlers.Push32R;
                if (k0 == OperandKind.Immediate) op->OpSize = (byte)StackOperandSize(in ins, bitness);
                return &StackHandlers.Push;
            case Mnemonic.Pop:
                if (k0 == OperandKind.Register && ins.Op0Register.IsSegmentRegister())
                {
                    op->OpSize = (byte)(bitness == 64 ? 8 : StackOperandSize(in ins, bitness));
                    ends = true;
                    return &SegmentHandlers.PopSeg;
                }
                if (bitness == 64 && k0 == OperandKind.Register && size == 8) return &StackHandlers.Pop64R;
                if (bitness == 32 && k0 == OperandKind.Register && size == 4) return &StackHandlers.Pop32R;
                return &StackHandlers.Pop;
            case Mnemonic.Pusha:
            case Mnemonic.Pushad:
                op->OpSize = (byte)(ins.Mnemonic == Mnemonic.Pushad ? 4 : 2);
                return &PushAllHandlers.Pusha;
            case Mnemonic.Popa:
            case Mnemonic.Popad:
                op->OpSize = (byte)(ins.Mnemonic == Mnemonic.Popad ? 4 : 2);
                return &PushAllHandlers.Popa;
            case Mnemonic.Daa: return &DecimalAdjustHandlers.Daa;
            case Mnemonic.Das: return &DecimalAdjustHandlers.Das;
            case Mnemonic.Aaa: return &DecimalAdjustHandlers.Aaa;
            case Mnemonic.Aas: return &DecimalAdjustHandlers.Aas;
            case Mnemonic.Aam: return &DecimalAdjustHandlers.Aam;
            case Mnemonic.Aad: return &DecimalAdjustHandlers.Aad;
            case Mnemonic.Leave:
                op->OpSize = (byte)StackOperandSize(in ins, bitness);
                return &StackHandlers.Leave;
            case Mnemonic.Enter:
                op->OpSize = (byte)StackOperandSize(in ins, bitness);
                op->Imm = ins.Immediate16;
                return &StackHandlers.Enter;
            case Mnemonic.Pushf:
            case Mnemonic.Pushfd:
            case Mnemonic.Pushfq:
                op->OpSize = (byte)StackOperandSize(in ins, bitness);
                return &StackHandlers.Pushf;
            case Mnemonic.Popf:
            case Mnemonic.Popfd:
            case Mnemonic.Popfq:
                op->OpSize = (byte)StackOperandSize(in ins, bitness);
                ends = true;
                return &StackHandlers.Popf;

            case Mnemonic.Jmp:
                if (ins.Op0Kind is OpKind.FarBranch16 or OpKind.FarBranch32 || ins.IsJmpFarIndirect)
                {
                    if (ins.IsJmpFarIndirect) op->OpSize = (byte)(ins.MemorySize.GetSize() - 2);
                    else op->OpSize = (byte)(ins.Op0Kind == OpKind.FarBranch16 ? 2 : 4);
                    return &SegmentHandlers.FarJmp;
                }
                if (k0 == OperandKind.Immediate) return &BranchHandlers.Jmp;
                return k0 == OperandKind.Register
                    ? BySize(op->OpSize, null, &BranchHandlers.JmpR<Size16>, &BranchHandlers.JmpR<Size32>, &BranchHandlers.JmpR<Size64>)
                    : BySize(op->OpSize, null, &BranchHandlers.JmpM<Size16>, &BranchHandlers.JmpM<Size32>, &BranchHandlers.JmpM<Size64>);
            case Mnemonic.Call:
                if (ins.Op0Kind is OpKind.FarBranch16 or OpKind.FarBranch32 || ins.IsCallFarIndirect)
                {
                    if (ins.IsCallFarIndirect) op->OpSize = (byte)(ins.MemorySize.GetSize() - 2);
                    else op->OpSize = (byte)(ins.Op0Kind == OpKind.FarBranch16 ? 2 : 4);
                    return &SegmentHandlers.FarCall;
                }
                if (k0 == OperandKind.Immediate)
                {
                    op->OpSize = (byte)StackOperandSize(in ins, bitness);
                    if (bitness == 64) return &BranchHandlers.Call64;
                    return bitness == 32 && op->OpSize == 4 ? &BranchHandlers.Call32 : &BranchHandlers.Call;
                }
                return &BranchHandlers.CallIndirect;
            case Mnemonic.Ret:
                op->OpSize = (byte)StackOperandSize(in ins, bitness);
                op->Imm = ins.OpCount > 0 ? ins.Immediate16 : 0UL;
                if (bitness == 64 && op->OpSize == 8) return &BranchHandlers.Ret64;
                return bitness == 32 && op->OpSize == 4 ? &BranchHandlers.Ret32 : &BranchHandlers.Ret;
            case Mnemonic.Retf:
                op->OpSize = (byte)StackOperandSize(in ins, bitness);
                op->Imm = ins.OpCount > 0 ? ins.Immediate16 : 0UL;
                return &SegmentHandlers.FarRet;
            case Mnemonic.Loop:
            case Mnemonic.Loope:
            case Mnemonic.Loopne:
            case Mnemonic.Jcxz:
            case Mnemonic.Jecxz:
            case Mnemonic.Jrcxz:
                op->Aux = ins.Mnemonic switch { Mnemonic.Loop => 0, Mnemonic.Loope => 1, Mnemonic.Loopne => 2, _ => 3 };
                op->OpSize = (byte)CounterSize(in ins);
                return &BranchHandlers.Loop;

            case Mnemonic.Int: op->Aux = 0; return &SegmentHandlers.Int;
            case Mnemonic.Int3: op->Aux = 1; return &SegmentHandlers.Int;
            case Mnemonic.Into: op->Aux = 2; return &SegmentHandlers.Int;
            case Mnemonic.Int1: op->Aux = 3; return &SegmentHandlers.Int;
            case Mnemonic.Iret:
            case Mnemonic.Iretd:
            case Mnemonic.Iretq:
                op->OpSize = (byte)(ins.Mnemonic == Mnemonic.Iretq ? 8 : ins.Mnemonic == Mnemonic.Iretd ? 4 : 2);
                return &SegmentHandlers.Iret;
            case Mnemonic.Syscall: return &SegmentHandlers.Syscall;
            case Mnemonic.Sysret:
            case Mnemonic.Sysretq:
                op->OpSize = (byte)(ins.Code == Code.Sysretq ? 8 : 4);
                return &SegmentHandlers.Sysret;
            case Mnemonic.Swapgs: ends = true; return &SegmentHandlers.Swapgs;
            case Mnemonic.Lds:
            case Mnemonic.Les:
            case Mnemonic.Lfs:
            case Mnemonic.Lgs:
            case Mnemonic.Lss:
                op->R2 = ins.Mnemonic switch { Mnemonic.Lds => 3, Mnemonic.Les => 0, Mnemonic.Lfs => 4, Mnemonic.Lgs => 5, _ => 2 };
                ends = true;
                return &SegmentHandlers.LoadFarPointer;

            case Mnemonic.Imul:
                if (ins.OpCount == 1) { op->Aux = 1; return Mul1(size); }
                return (ins.OpCount, op->K1) switch
                {
                    (2, OperandKind.Register) => BySize(size, null, &MulDivHandlers.ImulRR<Size16>, &MulDivHandlers.ImulRR<Size32>, &MulDivHandlers.ImulRR<Size64>),
                    (2, _) => BySize(size, null, &MulDivHandlers.ImulRM<Size16>, &MulDivHandlers.ImulRM<Size32>, &MulDivHandlers.ImulRM<Size64>),
                    (_, OperandKind.Register) => BySize(size, null, &MulDivHandlers.ImulRRI<Size16>, &MulDivHandlers.ImulRRI<Size32>, &MulDivHandlers.ImulRRI<Size64>),
                    _ => BySize(size, null, &MulDivHandlers.ImulRMI<Size16>, &MulDivHandlers.ImulRMI<Size32>, &MulDivHandlers.ImulRMI<Size64>),
                };
            case Mnemonic.Mul: op->Aux = 0; return Mul1(size);
            case Mnemonic.Div: op->Aux = 0; return BySize(size, &MulDivHandlers.Div<Size8>, &MulDivHandlers.Div<Size16>, &MulDivHandlers.Div<Size32>, &MulDivHandlers.Div<Size64>);
            case Mnemonic.Idiv: op->Aux = 1; return BySize(size, &MulDivHandlers.Div<Size8>, &MulDivHandlers.Div<Size16>, &MulDivHandlers.Div<Size32>, &MulDivHandlers.Div<Size64>);

            case Mnemonic.Rol: op->Aux = 0; return Shift(in ins, op, size);
            case Mnemonic.Ror: op->Aux = 1; return Shift(in ins, op, size);
            case Mnemonic.Rcl: op->Aux = 2; return Shift(in ins, op, size);
            case Mnemonic.Rcr: op->Aux = 3; return Shift(in ins, op, size);
            case Mnemonic.Shl: op->Aux = 4; return Shift(in ins, op, size);
            case Mnemonic.Shr: op->Aux = 5; return Shift(in ins, op, size);
            case Mnemonic.Sal: op->Aux = 6; return Shift(in ins, op, size);
            case Mnemonic.Sar: op->Aux = 7; return Shift(in ins, op, size);
            case Mnemonic.Shld:
            case Mnemonic.Shrd:
                op->Aux = ins.Mnemonic == Mnemonic.Shld ? (byte)0 : (byte)1;
                return BySize(size, null, &ShiftHandlers.DoubleShift<Size16>, &ShiftHandlers.DoubleShift<Size32>, &ShiftHandlers.DoubleShift<Size64>);

            case Mnemonic.Bt: op->Aux = 0; return BitTest(size);
            case Mnemonic.Bts: op->Aux = 1; return BitTest(size);
            case Mnemonic.Btr: op->Aux = 2; return BitTest(size);
            case Mnemonic.Btc: op->Aux = 3; return BitTest(size);
            case Mnemonic.Bsf: op->Aux = 0; return Scan(size);
            case Mnemonic.Bsr: op->Aux = 1; return Scan(size);
            case Mnemonic.Tzcnt: op->Aux = 2; return Scan(size);
            case Mnemonic.Lzcnt: op->Aux = 3; return Scan(size);
            case Mnemonic.Popcnt: op->Aux = 4; return Scan(size);

            case Mnemonic.Cmpxchg:
                return BySize(size, &ExchangeHandlers.Cmpxchg<Size8>, &ExchangeHandlers.Cmpxchg<Size16>, &ExchangeHandlers.Cmpxchg<Size32>, &ExchangeHandlers.Cmpxchg<Size64>);
            case Mnemonic.Xadd:
                return BySize(size, &ExchangeHandlers.Xadd<Size8>, &ExchangeHandlers.Xadd<Size16>, &ExchangeHandlers.Xadd<Size32>, &ExchangeHandlers.Xadd<Size64>);
            case Mnemonic.Cmpxchg8b: op->Aux = 0; return &ExchangeHandlers.CmpxchgWide;
            case Mnemonic.Cmpxchg16b: op->Aux = 1; return &ExchangeHandlers.CmpxchgWide;

            case Mnemonic.In:
                op->OpSize = (byte)ins.Op0Register.GetSize();
                ends = true;
                return &SystemHandlers.In;
            case Mnemonic.Out:
                op->OpSize = (byte)ins.Op1Register.GetSize();
                ends = true;
                return &SystemHandlers.Out;
            case Mnemonic.Hlt: ends = true; return &SystemHandlers.Hlt;
            case Mnemonic.Cli: ends = true; return &SystemHandlers.Cli;
            case Mnemonic.Sti: ends = true; return &SystemHandlers.Sti;
            case Mnemonic.Cpuid: return &SystemHandlers.CpuidInstruction;
            case Mnemonic.Rdtsc: op->Aux = 0; return &SystemHandlers.Rdtsc;
            case Mnemonic.Rdtscp: op->Aux = 1; return &SystemHandlers.Rdtsc;
            case Mnemonic.Rdmsr: return &SystemHandlers.Rdmsr;
            case Mnemonic.Wrmsr: ends = true; return &SystemHandlers.Wrmsr;
            case Mnemonic.Lgdt: op->Aux = 0; ends = true; return &SystemHandlers.LoadTable;
            case Mnemonic.Lidt: op->Aux = 1; ends = true; return &SystemHandlers.LoadTable;
            case Mnemonic.Sgdt: op->Aux = 0; return &SystemHandlers.StoreTable;
            case Mnemonic.Sidt: op->Aux = 1; return &SystemHandlers.StoreTable;
            case Mnemonic.Lldt: op->Aux = 0; ends = true; return &SystemHandlers.LoadSystemSegment;
            case Mnemonic.Ltr: op->Aux = 1; ends = true; return &SystemHandlers.LoadSystemSegment;
            case Mnemonic.Sldt: op->Aux = 0; return &SystemHandlers.StoreSystemValue;
            case Mnemonic.Str: op->Aux = 1; return &SystemHandlers.StoreSystemValue;
            case Mnemonic.Smsw: op->Aux = 2; return &SystemHandlers.StoreSystemValue;
            case Mnemonic.Lmsw: ends = true; return &SystemHandlers.Lmsw;
            case Mnemonic.Verr: op->Aux = 0; return &SegmentCheckHandlers.Verify;
            case Mnemonic.Verw: op->Aux = 1; return &SegmentCheckHandlers.Verify;
            case Mnemonic.Lar: op->Aux = 0; return &SegmentCheckHandlers.LoadSegmentInfo;
            case Mnemonic.Lsl: op->Aux = 1; return &SegmentCheckHandlers.LoadSegmentInfo;
            case Mnemonic.Clts: return &SystemHandlers.Clts;
            case Mnemonic.Invlpg: ends = true; return &SystemHandlers.Invlpg;
            case Mnemonic.Wbinvd:
            case Mnemonic.Invd:
                return &SystemHandlers.Privileged;
            case Mnemonic.Vmcall:
            case Mnemonic.Vmmcall:
                ends = true;
                return &SystemHandlers.Hypercall;
            case Mnemonic.Ud0:
            case Mnemonic.Ud1:
            case Mnemonic.Ud2:
                ends = true;
                return &SystemHandlers.Undefined;
        }

        if (IsCondition(ins.Mnemonic, out int cc))
        {
            op->Aux = (byte)cc;
            return SelectConditional(in ins, op, size, cc);
        }

        var sse = SseTranslator.Select(in ins, op);
        return sse;
    }

    private static delegate*<Cpu, Op*, int> SelectMov(in Instruction ins, Op* op, int size, out bool ends)
    {
        ends = false;
        byte k0 = op->K0, k1 = op->K1;
        if (k0 == OperandKind.Register && ins.Op0Register.IsCR())
        {
            ends = true;
            return &SystemHandlers.MovToCr;
        }
        if (k1 == OperandKind.Register && ins.Op1Register.IsCR()) return &SystemHandlers.MovFromCr;
        if (k0 == OperandKind.Register && ins.Op0Register.IsDR()) return &SystemHandlers.MovToDr;
        if (k1 == OperandKind.Register && ins.Op1Register.IsDR()) return &SystemHandlers.MovFromDr;
        if (k0 == OperandKind.Register && ins.Op0Register.IsSegmentRegister())
        {
            ends = true;
            return &SegmentHandlers.MovToSeg;
        }
        if (k1 == OperandKind.Register && ins.Op1Register.IsSegmentRegister()) return &SegmentHandlers.MovFromSeg;

        if (k0 == OperandKind.Register && k1 == OperandKind.Register)
            return BySize(size, &MoveHandlers.MovRR<Size8>, &MoveHandlers.MovRR<Size16>, &MoveHandlers.MovRR<Size32>, &MoveHandlers.MovRR<Size64>);
        if (k0 == OperandKind.Register && k1 == OperandKind.Immediate)
            return BySize(size, &MoveHandlers.MovRI<Size8>, &MoveHandlers.MovRI<Size16>, &MoveHandlers.MovRI<Size32>, &MoveHandlers.MovRI<Size64>);
        if (k0 == OperandKind.Register && k1 == OperandKind.Memory)
            return BySize(size, &MoveHandlers.MovRM<Size8>, &MoveHandlers.MovRM<Size16>, &MoveHandlers.MovRM<Size32>, &MoveHandlers.MovRM<Size64>);
        if (k0 == OperandKind.Memory && k1 == OperandKind.Register)
            return BySize(size, &MoveHandlers.MovMR<Size8>, &MoveHandlers.MovMR<Size16>, &MoveHandlers.MovMR<Size32>, &MoveHandlers.MovMR<Size64>);
        if (k0 == OperandKind.Memory && k1 == OperandKind.Immediate)
            return BySize(size, &MoveHandlers.MovMI<Size8>, &MoveHandlers.MovMI<Size16>, &MoveHandlers.MovMI<Size32>, &MoveHandlers.MovMI<Size64>);
        return null;
    }

    private static delegate*<Cpu, Op*, int> SelectString(in Instruction ins, Op* op)
    {
        byte kind = ins.Mnemonic switch
        {
            Mnemonic.Movsb or Mnemonic.Movsw or Mnemonic.Movsd or Mnemonic.Movsq => StringHandlers.Movs,
            Mnemonic.Stosb or Mnemonic.Stosw or Mnemonic.Stosd or Mnemonic.Stosq => StringHandlers.Stos,
            Mnemonic.Lodsb or Mnemonic.Lodsw or Mnemonic.Lodsd or Mnemonic.Lodsq => StringHandlers.Lods,
            Mnemonic.Cmpsb or Mnemonic.Cmpsw or Mnemonic.Cmpsd or Mnemonic.Cmpsq => StringHandlers.Cmps,
            Mnemonic.Scasb or Mnemonic.Scasw or Mnemonic.Scasd or Mnemonic.Scasq => StringHandlers.Scas,
            Mnemonic.Insb or Mnemonic.Insw or Mnemonic.Insd => StringHandlers.Ins,
            Mnemonic.Outsb or Mnemonic.Outsw or Mnemonic.Outsd => StringHandlers.Outs,
            _ => 0xFF,
        };
        if (kind == 0xFF) return null;
        op->Aux = kind;
        op->OpSize = (byte)ins.MemorySize.GetSize();
        op->AddrMask = StringAddressMask(ins.Op0Kind) & StringAddressMask(ins.Op1Kind);
        op->Seg = SegmentNumber(ins.MemorySegment);
        op->Imm = kind is StringHandlers.Cmps or StringHandlers.Scas
            ? (ins.HasRepePrefix ? 1UL : ins.HasRepnePrefix ? 2UL : 0UL)
            : (ins.HasRepPrefix ? 1UL : 0UL);
        return &StringHandlers.Execute;
    }

    /// <summary>The address size a string operand implies (all-ones for operands that are not string memory).</summary>
    private static ulong StringAddressMask(OpKind k) => k switch
    {
        OpKind.MemorySegSI or OpKind.MemorySegDI or OpKind.MemoryESDI => 0xFFFF,
        OpKind.MemorySegESI or OpKind.MemorySegEDI or OpKind.MemoryESEDI => 0xFFFF_FFFF,
        _ => ulong.MaxValue,
    };

    private static bool IsCondition(Mnemonic m, out int cc)
    {
        cc = m switch
        {
            Mnemonic.Jo or Mnemonic.Seto or Mnemonic.Cmovo => 0,
            Mnemonic.Jno or Mnemonic.Setno or Mnemonic.Cmovno => 1,
            Mnemonic.Jb or Mnemonic.Setb or Mnemonic.Cmovb => 2,
            Mnemonic.Jae or Mnemonic.Setae or Mnemonic.Cmovae => 3,
            Mnemonic.Je or Mnemonic.Sete or Mnemonic.Cmove => 4,
            Mnemonic.Jne or Mnemonic.Setne or Mnemonic.Cmovne => 5,
            Mnemonic.Jbe or Mnemonic.Setbe or Mnemonic.Cmovbe => 6,
            Mnemonic.Ja or Mnemonic.Seta or Mnemonic.Cmova => 7,
            Mnemonic.Js or Mnemonic.Sets or Mnemonic.Cmovs => 8,
            Mnemonic.Jns or Mnemonic.Setns or Mnemonic.Cmovns => 9,
            Mnemonic.Jp or Mnemonic.Setp or Mnemonic.Cmovp => 10,
            Mnemonic.Jnp or Mnemonic.Setnp or Mnemonic.Cmovnp => 11,
            Mnemonic.Jl or Mnemonic.Setl or Mnemonic.Cmovl => 12,
            Mnemonic.Jge or Mnemonic.Setge or Mnemonic.Cmovge => 13,
            Mnemonic.Jle or Mnemonic.Setle or Mnemonic.Cmovle => 14,
            Mnemonic.Jg or Mnemonic.Setg or Mnemonic.Cmovg => 15,
            _ => -1,
        };
        return cc >= 0;
    }

    private static delegate*<Cpu, Op*, int> SelectConditional(in Instruction ins, Op* op, int size, int cc)
    {
        if (ins.IsJccShortOrNear)
            return ByCondition<JccFamily>(cc);
        if (ins.OpCount == 1)
            return op->K0 == OperandKind.Register ? ByCondition<SetccRFamily>(cc) : &MoveHandlers.SetccM;
        bool register = op->K1 == OperandKind.Register;
        return size switch
        {
            2 => register ? ByCondition<CmovRRFamily<Size16>>(cc) : ByCondition<CmovRMFamily<Size16>>(cc),
            4 => register ? ByCondition<CmovRRFamily<Size32>>(cc) : ByCondition<CmovRMFamily<Size32>>(cc),
            8 => register ? ByCondition<CmovRRFamily<Size64>>(cc) : ByCondition<CmovRMFamily<Size64>>(cc),
            _ => null,
        };
    }

    /// <summary>The handler of family <typeparamref name="F"/> for condition code <paramref name="cc"/> (0-15, as in Jcc's opcode).</summary>
    private static delegate*<Cpu, Op*, int> ByCondition<F>(int cc) where F : IConditionalFamily => cc switch
    {
        0 => F.For<CondO>(),
        1 => F.For<CondNO>(),
        2 => F.For<CondB>(),
        3 => F.For<CondAE>(),
        4 => F.For<CondE>(),
        5 => F.For<CondNE>(),
        6 => F.For<CondBE>(),
        7 => F.For<CondA>(),
        8 => F.For<CondS>(),
        9 => F.For<CondNS>(),
        10 => F.For<CondP>(),
        11 => F.For<CondNP>(),
        12 => F.For<CondL>(),
        13 => F.For<CondGE>(),
        14 => F.For<CondLE>(),
        _ => F.For<CondG>(),
    };

    /// <summary>A handler specialised per condition, named by the condition type.</summary>
    private interface IConditionalFamily
    {
        static abstract delegate*<Cpu, Op*, int> For<C>() where C : ICondition;
    }

    private readonly struct JccFamily : IConditionalFamily
    {
        public static delegate*<Cpu, Op*, int> For<C>() where C : ICondition => &BranchHandlers.JccT<C>;
    }

    private readonly struct SetccRFamily : IConditionalFamily
    {
        public static delegate*<Cpu, Op*, int> For<C>() where C : ICondition => &MoveHandlers.SetccR<C>;
    }

    private readonly struct CmovRRFamily<S> : IConditionalFamily where S : IOperandSize
    {
        public static delegate*<Cpu, Op*, int> For<C>() where C : ICondition => &MoveHandlers.CmovRR<S, C>;
    }

    private readonly struct CmovRMFamily<S> : IConditionalFamily where S : IOperandSize
    {
        public static delegate*<Cpu, Op*, int> For<C>() where C : ICondition => &MoveHandlers.CmovRM<S, C>;
    }

    /// <summary>Push/pop/call/ret operand size from the opcode (64 by default in 64-bit mode, 66h makes 16).</summary>
    private static int StackOperandSize(in Instruction ins, int bitness)
    {
        int bits = ins.Code.ToOpCode().OperandSize;
        return bits != 0 ? bits / 8 : bitness == 64 ? 8 : bitness / 8;
    }

    private static int CounterSize(in Instruction ins)
    {
        switch (ins.Mnemonic)
        {
            case Mnemonic.Jcxz: return 2;
            case Mnemonic.Jecxz: return 4;
            case Mnemonic.Jrcxz: return 8;
        }
        string name = ins.Code.ToString();
        return name.EndsWith("RCX", StringComparison.Ordinal) ? 8 : name.EndsWith("ECX", StringComparison.Ordinal) ? 4 : 2;
    }

    private static delegate*<Cpu, Op*, int> BySize(int size,
        delegate*<Cpu, Op*, int> s8, delegate*<Cpu, Op*, int> s16, delegate*<Cpu, Op*, int> s32, delegate*<Cpu, Op*, int> s64) => size switch
        {
            1 => s8,
            2 => s16,
            4 => s32,
            8 => s64,
            _ => null,
        };

    private static delegate*<Cpu, Op*, int> Alu<O>(Op* op, int size, bool locked) where O : IAluOp
    {
        byte k0 = op->K0, k1 = op->K1;
        if (locked && k0 == OperandKind.Memory)
            return BySize(size, &AluHandlers.Locked<Size8, O>, &AluHandlers.Locked<Size16, O>, &AluHandlers.Locked<Size32, O>, &AluHandlers.Locked<Size64, O>);
        if (k0 == OperandKind.Register && k1 == OperandKind.Register)
            return BySize(size, &AluHandlers.RR<Size8, O>, &AluHandlers.RR<Size16, O>, &AluHandlers.RR<Size32, O>, &AluHandlers.RR<Size64, O>);
        if (k0 == OperandKind.Register && k1 == OperandKind.Immediate)
            return BySize(size, &AluHandlers.RI<Size8, O>, &AluHandlers.RI<Size16, O>, &AluHandlers.RI<Size32, O>, &AluHandlers.RI<Size64, O>);
        if (k0 == OperandKind.Register && k1 == OperandKind.Memory)
            return BySize(size, &AluHandlers.RM<Size8, O>, &AluHandlers.RM<Size16, O>, &AluHandlers.RM<Size32, O>, &AluHandlers.RM<Size64, O>);
        if (k0 == OperandKind.Memory && k1 == OperandKind.Register)
            return BySize(size, &AluHandlers.MR<Size8, O>, &AluHandlers.MR<Size16, O>, &AluHandlers.MR<Size32, O>, &AluHandlers.MR<Size64, O>);
        if (k0 == OperandKind.Memory && k1 == OperandKind.Immediate)
            return BySize(size, &AluHandlers.MI<Size8, O>, &AluHandlers.MI<Size16, O>, &AluHandlers.MI<Size32, O>, &AluHandlers.MI<Size64, O>);
        return null;
    }

    /// <summary>INC, DEC, NOT or NEG (Aux 0-3) of a memory operand; the register forms have handlers of their own.</summary>
    private static delegate*<Cpu, Op*, int> UnaryMemory(int size) =>
        BySize(size, &AluHandlers.UnaryM<Size8>, &AluHandlers.UnaryM<Size16>, &AluHandlers.UnaryM<Size32>, &AluHandlers.UnaryM<Size64>);

    private static delegate*<Cpu, Op*, int> Extend(Op* op, int dst, int src, bool memory)
    {
        if (memory)
        {
            return (dst, src) switch
            {
                (2, 1) => &MoveHandlers.ExtendM<Size16, Size8>,
                (4, 1) => &MoveHandlers.ExtendM<Size32, Size8>,
                (8, 1) => &MoveHandlers.ExtendM<Size64, Size8>,
                (2, 2) => &MoveHandlers.ExtendM<Size16, Size16>,
                (4, 2) => &MoveHandlers.ExtendM<Size32, Size16>,
                (8, 2) => &MoveHandlers.ExtendM<Size64, Size16>,
                (4, 4) => &MoveHandlers.ExtendM<Size32, Size32>,
                (8, 4) => &MoveHandlers.ExtendM<Size64, Size32>,
                _ => null,
            };
        }
        return (dst, src) switch
        {
            (2, 1) => &MoveHandlers.ExtendR<Size16, Size8>,
            (4, 1) => &MoveHandlers.ExtendR<Size32, Size8>,
            (8, 1) => &MoveHandlers.ExtendR<Size64, Size8>,
            (2, 2) => &MoveHandlers.ExtendR<Size16, Size16>,
            (4, 2) => &MoveHandlers.ExtendR<Size32, Size16>,
            (8, 2) => &MoveHandlers.ExtendR<Size64, Size16>,
            (4, 4) => &MoveHandlers.ExtendR<Size32, Size32>,
            (8, 4) => &MoveHandlers.ExtendR<Size64, Size32>,
            _ => null,
        };
    }

    private static delegate*<Cpu, Op*, int> Mul1(int size) =>
        BySize(size, &MulDivHandlers.Mul1<Size8>, &MulDivHandlers.Mul1<Size16>, &MulDivHandlers.Mul1<Size32>, &MulDivHandlers.Mul1<Size64>);

    private static delegate*<Cpu, Op*, int> Shift(in Instruction ins, Op* op, int size)
    {
        if (ins.OpCount == 1)
        {
            op->K1 = OperandKind.Immediate;
            op->Imm = 1;
        }
        if (op->K1 == OperandKind.Immediate && op->K0 == OperandKind.Register)
        {
            ulong masked = op->Imm & (size == 8 ? 0x3FUL : 0x1FUL);
            if (masked != 0 && masked < (ulong)size * 8)
            {
                op->Imm = masked;
                switch (op->Aux)
                {
                    case 4:
                    case 6:
                        return BySize(size, &ShiftHandlers.ShlRI<Size8>, &ShiftHandlers.ShlRI<Size16>, &ShiftHandlers.ShlRI<Size32>, &ShiftHandlers.ShlRI<Size64>);
                    case 5:
                        return BySize(size, &ShiftHandlers.ShrRI<Size8>, &ShiftHandlers.ShrRI<Size16>, &ShiftHandlers.ShrRI<Size32>, &ShiftHandlers.ShrRI<Size64>);
                    case 7:
                        return BySize(size, &ShiftHandlers.SarRI<Size8>, &ShiftHandlers.SarRI<Size16>, &ShiftHandlers.SarRI<Size32>, &ShiftHandlers.SarRI<Size64>);
                }
            }
        }
        return op->K0 == OperandKind.Register
            ? BySize(size, &ShiftHandlers.ShiftR<Size8>, &ShiftHandlers.ShiftR<Size16>, &ShiftHandlers.ShiftR<Size32>, &ShiftHandlers.ShiftR<Size64>)
            : BySize(size, &ShiftHandlers.ShiftM<Size8>, &ShiftHandlers.ShiftM<Size16>, &ShiftHandlers.ShiftM<Size32>, &ShiftHandlers.ShiftM<Size64>);
    }

    private static delegate*<Cpu, Op*, int> BitTest(int size) =>
        BySize(size, null, &BitHandlers.BitTest<Size16>, &BitHandlers.BitTest<Size32>, &BitHandlers.BitTest<Size64>);

    private static delegate*<Cpu, Op*, int> Scan(int size) =>
        BySize(size, null, &BitHandlers.Scan<Size16>, &BitHandlers.Scan<Size32>, &BitHandlers.Scan<Size64>);
}
