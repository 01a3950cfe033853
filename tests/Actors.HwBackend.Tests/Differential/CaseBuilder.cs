using System.Buffers.Binary;
using Iced.Intel;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// Builds one test case for an Iced <see cref="Code"/>: random registers, random operand shapes
/// (register, memory with any addressing form, immediate) driven by the opcode's operand kinds,
/// edge-biased values, then encoding, decoding back, safety checks and output masks.
/// Families adjust the choices through the public knobs and value accessors between
/// <see cref="ChooseOperands"/> and <see cref="TryBuild"/>.
/// </summary>
internal sealed class CaseBuilder
{
    private static readonly Register[] Gpr8 =
    [
        Register.AL, Register.CL, Register.DL, Register.BL, Register.BPL, Register.SIL, Register.DIL,
        Register.R8L, Register.R9L, Register.R10L, Register.R11L, Register.R12L, Register.R13L, Register.R14L, Register.R15L,
    ];

    private static readonly Register[] Gpr8NoRex =
        [Register.AL, Register.CL, Register.DL, Register.BL, Register.AH, Register.CH, Register.DH, Register.BH];

    private const int RspIndex = 4;

    private static readonly Register[] NullSegments = [Register.ES, Register.CS, Register.SS, Register.DS];

    private readonly ByteCodeWriter _writer = new();
    private readonly Encoder _encoder;
    private readonly InstructionInfoFactory _infoFactory = new();
    private readonly Operand[] _ops = [new(), new(), new(), new(), new()];
    private bool _noRex;
    private bool _fsPrefix;
    private ushort _usedGprs;
    private int _memOp;
    private MemoryOperand _memory;

    public CaseBuilder(Rng rng)
    {
        Rng = rng;
        _encoder = Encoder.Create(64, _writer);
        rng.Fill(Data);
    }

    public Rng Rng { get; }

    /// <summary>Input data window; kept across cases so bytes no case set explicitly are still random.</summary>
    public byte[] Data { get; } = new byte[DiffLayout.DataSize];

    public RegisterState State { get; private set; } = new();

    public Code Code { get; private set; }

    public Mnemonic Mnemonic => Code.Mnemonic();

    public OpCodeInfo OpCode => Code.ToOpCode();

    public int OpCount { get; private set; }

    public Operand Op(int i) => _ops[i];

    /// <summary>Index of the memory operand, or -1.</summary>
    public int MemoryOperandIndex => _memOp;

    // Knobs, reset by Begin.
    public double MemoryChance { get; set; }
    public double LockChance { get; set; }

    /// <summary>GPRs (bit n = encoding n) the instruction uses implicitly; memory addressing avoids them.</summary>
    public ushort ReservedGprs { get; set; }

    /// <summary>Required alignment of the memory operand (0 = natural/random).</summary>
    public int Alignment { get; set; }

    /// <summary>Bytes kept free on both sides of a memory operand (for BT with a register bit offset).</summary>
    public int MemoryMargin { get; set; }

    public LaneKind Lanes { get; set; }

    /// <summary>Width in bits of integer lanes when <see cref="Lanes"/> is Int (8, 16, 32 or 64).</summary>
    public int IntLaneBits { get; set; }

    public string? Note { get; set; }

    /// <summary>Bytes placed after the instruction (e.g. what a branch jumps over); null for none.</summary>
    public byte[]? Suffix { get; set; }

    /// <summary>Pads the code with NOPs to this length (0 = no padding), so every path ends at one address.</summary>
    public int PadTo { get; set; }

    public void Begin(Code code)
    {
        Code = code;
        OpCount = code.ToOpCode().OpCount;
        MemoryChance = 0.4;
        LockChance = 0;
        ReservedGprs = 0;
        Alignment = 0;
        MemoryMargin = 0x100;
        Lanes = LaneKind.Int;
        IntLaneBits = 32;
        Note = null;
        Suffix = null;
        PadTo = 0;
        _usedGprs = 0;
        _memOp = -1;
        _noRex = false;
        _fsPrefix = false;

        var s = new RegisterState();
        for (int i = 0; i < 16; i++)
            s.Gprs[i] = Rng.Edge(64);
        s.Gprs[RspIndex] = DiffLayout.StackTop;
        ulong flags = 0x2;
        foreach (ulong f in (ReadOnlySpan<ulong>)[DefinedOutputs.CF, DefinedOutputs.PF, DefinedOutputs.AF, DefinedOutputs.ZF, DefinedOutputs.SF, DefinedOutputs.OF])
        {
            if (Rng.Chance(0.5))
                flags |= f;
        }
        if (Rng.Chance(0.25))
            flags |= DefinedOutputs.DF;
        s.Rflags = flags;
        Rng.Fill(s.Xmm);
        State = s;
    }

    /// <summary>Picks registers, memory location and immediates for every operand and gives them values.</summary>
    public void ChooseOperands()
    {
        var opCode = OpCode;
        bool hasByteReg = false;
        for (int i = 0; i < OpCount; i++)
        {
            var k = opCode.GetOpKind(i);
            if (k is OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r8_reg or OpCodeOperandKind.r8_opcode)
                hasByteReg = true;
        }
        // AH..BH exist only without a REX prefix, which then rules out R8+, SPL..DIL and XMM8+.
        _noRex = hasByteReg && Rng.Chance(0.2);
        bool memoryAllowed = Rng.Chance(MemoryChance);

        for (int i = 0; i < OpCount; i++)
        {
            var op = _ops[i];
            op.Kind = opCode.GetOpKind(i);
            op.Register = Register.None;
            op.Address = 0;
            op.Immediate = 0;
            switch (op.Kind)
            {
                case OpCodeOperandKind.r8_or_mem:
                case OpCodeOperandKind.r16_or_mem:
                case OpCodeOperandKind.r32_or_mem:
                case OpCodeOperandKind.r64_or_mem:
                case OpCodeOperandKind.xmm_or_mem:
                    if (memoryAllowed && _memOp < 0)
                        ChooseMemory(i);
                    else
                        ChooseRegister(i);
                    break;
                case OpCodeOperandKind.mem:
                    ChooseMemory(i);
                    break;
                case OpCodeOperandKind.r8_reg:
                case OpCodeOperandKind.r8_opcode:
                case OpCodeOperandKind.r16_reg:
                case OpCodeOperandKind.r16_rm:
                case OpCodeOperandKind.r16_opcode:
                case OpCodeOperandKind.r32_reg:
                case OpCodeOperandKind.r32_rm:
                case OpCodeOperandKind.r32_opcode:
                case OpCodeOperandKind.r64_reg:
                case OpCodeOperandKind.r64_rm:
                case OpCodeOperandKind.r64_opcode:
                case OpCodeOperandKind.xmm_reg:
                case OpCodeOperandKind.xmm_rm:
                    ChooseRegister(i);
                    break;
                case OpCodeOperandKind.al:
                    FixedRegister(i, Register.AL);
                    break;
                case OpCodeOperandKind.cl:
                    FixedRegister(i, Register.CL);
                    break;
                case OpCodeOperandKind.ax:
                    FixedRegister(i, Register.AX);
                    break;
                case OpCodeOperandKind.eax:
                    FixedRegister(i, Register.EAX);
                    break;
                case OpCodeOperandKind.rax:
                    FixedRegister(i, Register.RAX);
                    break;
                case OpCodeOperandKind.imm8_const_1:
                    op.Type = OperandType.Immediate;
                    op.Immediate = 1;
                    break;
                case OpCodeOperandKind.imm8:
                    op.Type = OperandType.Immediate;
                    op.Immediate = (long)Rng.Edge(8);
                    break;
                case OpCodeOperandKind.imm8sex16:
                case OpCodeOperandKind.imm8sex32:
                case OpCodeOperandKind.imm8sex64:
                    op.Type = OperandType.Immediate;
                    op.Immediate = (sbyte)Rng.Edge(8);
                    break;
                case OpCodeOperandKind.imm16:
                    op.Type = OperandType.Immediate;
                    op.Immediate = (long)Rng.Edge(16);
                    break;
                case OpCodeOperandKind.imm32:
                case OpCodeOperandKind.imm32sex64:
                    op.Type = OperandType.Immediate;
                    op.Immediate = (int)Rng.Edge(32);
                    break;
                case OpCodeOperandKind.imm64:
                    op.Type = OperandType.Immediate;
                    op.Immediate = (long)Rng.Edge(64);
                    break;
                default:
                    throw new NotSupportedException($"operand kind {op.Kind} of {Code}");
            }
        }
    }

    /// <summary>True when the generic generator understands every operand of <paramref name="code"/>.</summary>
    public static bool IsSupported(Code code)
    {
        var oc = code.ToOpCode();
        for (int i = 0; i < oc.OpCount; i++)
        {
            switch (oc.GetOpKind(i))
            {
                case OpCodeOperandKind.r8_or_mem:
                case OpCodeOperandKind.r16_or_mem:
                case OpCodeOperandKind.r32_or_mem:
                case OpCodeOperandKind.r64_or_mem:
                case OpCodeOperandKind.xmm_or_mem:
                case OpCodeOperandKind.mem:
                case OpCodeOperandKind.r8_reg:
                case OpCodeOperandKind.r8_opcode:
                case OpCodeOperandKind.r16_reg:
                case OpCodeOperandKind.r16_rm:
                case OpCodeOperandKind.r16_opcode:
                case OpCodeOperandKind.r32_reg:
                case OpCodeOperandKind.r32_rm:
                case OpCodeOperandKind.r32_opcode:
                case OpCodeOperandKind.r64_reg:
                case OpCodeOperandKind.r64_rm:
                case OpCodeOperandKind.r64_opcode:
                case OpCodeOperandKind.xmm_reg:
                case OpCodeOperandKind.xmm_rm:
                case OpCodeOperandKind.al:
                case OpCodeOperandKind.cl:
                case OpCodeOperandKind.ax:
                case OpCodeOperandKind.eax:
                case OpCodeOperandKind.rax:
                case OpCodeOperandKind.imm8_const_1:
                case OpCodeOperandKind.imm8:
                case OpCodeOperandKind.imm8sex16:
                case OpCodeOperandKind.imm8sex32:
                case OpCodeOperandKind.imm8sex64:
                case OpCodeOperandKind.imm16:
                case OpCodeOperandKind.imm32:
                case OpCodeOperandKind.imm32sex64:
                case OpCodeOperandKind.imm64:
                    break;
                default:
                    return false;
            }
        }
        return true;
    }

    private void FixedRegister(int i, Register r)
    {
        var op = _ops[i];
        op.Type = OperandType.Register;
        op.Register = r;
        op.Size = r.GetSize();
        _usedGprs |= (ushort)(1 << DefinedOutputs.GprIndex(r));
        Set(i, Rng.Edge(op.Size * 8));
    }

    private void ChooseRegister(int i)
    {
        var op = _ops[i];
        op.Type = OperandType.Register;
        Register r;
        switch (op.Kind)
        {
            case OpCodeOperandKind.r8_or_mem:
            case OpCodeOperandKind.r8_reg:
            case OpCodeOperandKind.r8_opcode:
                r = _noRex ? Rng.Pick(Gpr8NoRex) : Rng.Pick(Gpr8);
                break;
            case OpCodeOperandKind.xmm_or_mem:
            case OpCodeOperandKind.xmm_reg:
            case OpCodeOperandKind.xmm_rm:
                r = Register.XMM0 + Rng.Below(_noRex ? 8 : 16);
                break;
            default:
                Register baseReg = op.Kind switch
                {
                    OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r16_reg or OpCodeOperandKind.r16_rm or OpCodeOperandKind.r16_opcode => Register.AX,
                    OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_rm or OpCodeOperandKind.r32_opcode => Register.EAX,
                    _ => Register.RAX,
                };
                r = baseReg + PickGprIndex(_noRex ? 8 : 16, 0);
                break;
        }
        op.Register = r;
        op.Size = r.GetSize();
        if (r.IsGPR())
        {
            _usedGprs |= (ushort)(1 << DefinedOutputs.GprIndex(r));
            Set(i, Rng.Edge(op.Size * 8));
        }
        else
        {
            FillLanes(State.Xmm.AsSpan((r - Register.XMM0) * 16, 16));
        }
    }

    /// <summary>A GPR index below <paramref name="limit"/> other than RSP and the <paramref name="exclude"/> set.</summary>
    private int PickGprIndex(int limit, ushort exclude)
    {
        exclude |= 1 << RspIndex;
        for (int attempt = 0; attempt < 64; attempt++)
        {
            int idx = Rng.Below(limit);
            if ((exclude & (1 << idx)) == 0)
                return idx;
        }
        return -1;
    }

    private void ChooseMemory(int i)
    {
        var op = _ops[i];
        op.Type = OperandType.Memory;
        _memOp = i;
        var probe = new Instruction { Code = Code };
        int size = probe.MemorySize.GetSize();
        op.Size = size;
        if (Mnemonic == Mnemonic.Lea)
            return; // any address: nothing is accessed

        int align = Alignment;
        if (align == 0 && size == 16 && NeedsAlignedM128(Mnemonic))
            align = 16;
        ulong lo = (ulong)MemoryMargin;
        ulong hi = (ulong)(DiffLayout.DataSize - MemoryMargin - Math.Max(size, 16));
        ulong offset;
        int roll = Rng.Below(100);
        if (align != 0)
        {
            offset = (lo + (ulong)Rng.Below((int)(hi - lo))) & ~(ulong)(align - 1);
            if (offset < lo)
                offset += (ulong)align;
        }
        else if (roll < 12 && size > 1)
        {
            // Straddle the boundary between the two window pages.
            offset = 0x1000 - (ulong)Rng.Range(1, size - 1);
        }
        else if (roll < 35)
        {
            offset = lo + (ulong)Rng.Below((int)(hi - lo));
        }
        else
        {
            ulong natural = (ulong)Math.Min(Math.Max(size, 1), 16);
            offset = (lo + (ulong)Rng.Below((int)(hi - lo))) & ~(natural - 1);
            if (offset < lo)
                offset += natural;
        }
        op.Address = DiffLayout.DataBase + offset;
        if (size > 0)
        {
            var bytes = Data.AsSpan((int)offset, size);
            if (op.Kind == OpCodeOperandKind.xmm_or_mem || size > 8)
                FillLanes(bytes);
            else
                WriteLe(bytes, Rng.Edge(size * 8));
        }
    }

    /// <summary>Legacy-encoded SSE instructions with an m128 operand fault on misalignment, except these.</summary>
    public static bool NeedsAlignedM128(Mnemonic m) =>
        m is not (Mnemonic.Movups or Mnemonic.Movupd or Mnemonic.Movdqu or Mnemonic.Lddqu);

    /// <summary>Fills XMM-sized bytes according to <see cref="Lanes"/>.</summary>
    public void FillLanes(Span<byte> bytes)
    {
        switch (Lanes)
        {
            case LaneKind.Float32:
                for (int i = 0; i + 4 <= bytes.Length; i += 4)
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.Slice(i), Rng.Single());
                break;
            case LaneKind.Float64:
                for (int i = 0; i + 8 <= bytes.Length; i += 8)
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes.Slice(i), Rng.Double());
                if (bytes.Length == 4)
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)Rng.Double());
                break;
            default:
                int w = Math.Min(IntLaneBits / 8, bytes.Length);
                for (int i = 0; i + w <= bytes.Length; i += w)
                    WriteLe(bytes.Slice(i, w), Rng.Edge(w * 8));
                break;
        }
    }

    private static void WriteLe(Span<byte> bytes, ulong v)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)v;
            v >>= 8;
        }
    }

    private static ulong ReadLe(ReadOnlySpan<byte> bytes)
    {
        ulong v = 0;
        for (int i = bytes.Length - 1; i >= 0; i--)
            v = (v << 8) | bytes[i];
        return v;
    }

    /// <summary>Current value of operand <paramref name="i"/> (GPR part, low 64 bits of XMM or memory, immediate).</summary>
    public ulong Get(int i)
    {
        var op = _ops[i];
        return op.Type switch
        {
            OperandType.Immediate => (ulong)op.Immediate,
            OperandType.Memory => ReadData(op.Address, Math.Min(op.Size, 8)),
            _ => op.Register.IsXMM() ? State.XmmLow(op.Register - Register.XMM0) : DefinedOutputs.ReadRegister(State, op.Register),
        };
    }

    /// <summary>Sets operand <paramref name="i"/>'s value (only its width is written; immediates are re-encoded).</summary>
    public void Set(int i, ulong v)
    {
        var op = _ops[i];
        switch (op.Type)
        {
            case OperandType.Immediate:
                op.Immediate = (long)v;
                break;
            case OperandType.Memory:
                WriteData(op.Address, Math.Min(op.Size, 8), v);
                break;
            default:
                if (op.Register.IsXMM())
                    State.SetXmm(op.Register - Register.XMM0, v, State.XmmHigh(op.Register - Register.XMM0));
                else
                    SetRegister(op.Register, v);
                break;
        }
    }

    public void SetRegister(Register r, ulong v)
    {
        if (r >= Register.AH && r <= Register.BH)
        {
            int idx = r - Register.AH;
            State.Gprs[idx] = (State.Gprs[idx] & ~0xFF00UL) | ((v & 0xFF) << 8);
            return;
        }
        int index = DefinedOutputs.GprIndex(r);
        ulong mask = Rng.Mask(r.GetSize() * 8);
        State.Gprs[index] = (State.Gprs[index] & ~mask) | (v & mask);
    }

    public ulong ReadData(ulong address, int size) =>
        ReadLe(Data.AsSpan((int)(address - DiffLayout.DataBase), size));

    public void WriteData(ulong address, int size, ulong v) =>
        WriteLe(Data.AsSpan((int)(address - DiffLayout.DataBase), size), v);

    /// <summary>Builds the instruction from the chosen operands and completes the case; false = pick again.</summary>
    public bool TryBuild(out DiffCase? result)
    {
        result = null;
        return BuildFromOperands() is { } ins && TryComplete(ins, checkMemory: true, out result);
    }

    /// <summary>The instruction for the chosen operands (fixing the memory addressing registers), or null.</summary>
    public Instruction? BuildFromOperands()
    {
        Instruction ins;
        try
        {
            if (_memOp >= 0)
                _memory = BuildAddressing(_ops[_memOp]);
            ins = Create();
        }
        catch (ArgumentException)
        {
            return null; // e.g. an immediate out of range for this form
        }
        if (_memOp == 0 && LockChance > 0 && OpCode.CanUseLockPrefix && Rng.Chance(LockChance))
            ins.HasLockPrefix = true;
        if (_fsPrefix)
            ins.SegmentPrefix = Register.FS;
        else if (_memOp >= 0 && Mnemonic != Mnemonic.Lea && Rng.Chance(0.03))
            ins.SegmentPrefix = Rng.Pick(NullSegments); // ignored in 64-bit mode: base 0
        return ins;
    }

    private MemoryOperand BuildAddressing(Operand op)
    {
        ushort exclude = (ushort)(_usedGprs | ReservedGprs | (1 << RspIndex));
        int limit = _noRex ? 8 : 16;
        if (Mnemonic == Mnemonic.Lea)
        {
            // No access: any registers and values, including wrap-around.
            int b = Rng.Chance(0.1) ? RspIndex : Rng.Below(limit);
            int x = PickGprIndex(limit, 0);
            long d = Rng.Below(3) switch { 0 => 0, 1 => (sbyte)Rng.Next(), _ => (int)Rng.Next() };
            int dsz = d == 0 ? 0 : d is >= sbyte.MinValue and <= sbyte.MaxValue ? 1 : 4;
            return Rng.Below(5) switch
            {
                4 => new MemoryOperand(Register.RIP, Register.None, 1, (long)DiffLayout.CodeAddress + (int)Rng.Next() / 2, 8),
                0 => new MemoryOperand(Register.RAX + b, Register.None, 1, d, dsz),
                1 => new MemoryOperand(Register.None, Register.RAX + x, 1 << Rng.Below(4), (int)d, 4),
                _ => new MemoryOperand(Register.RAX + b, Register.RAX + x, 1 << Rng.Below(4), d, dsz),
            };
        }

        ulong ea = op.Address;
        int form = Rng.Below(100);
        int baseIdx = PickGprIndex(limit, exclude);
        int indexIdx = baseIdx < 0 ? -1 : PickGprIndex(limit, (ushort)(exclude | (1 << baseIdx)));
        if (baseIdx >= 0 && Rng.Chance(0.07))
            return BuildAddressing32(ea, baseIdx, indexIdx);
        if (baseIdx >= 0 && form >= 20 && Rng.Chance(0.06))
        {
            // An FS override: the segment base is added to base + index*scale + disp. The host's FS
            // base is this thread's TLS pointer; the guest gets the same base.
            _fsPrefix = true;
            State.FsBase = NativeExecutor.CurrentFsBase();
            ea -= State.FsBase;
        }
        if (form < 12)
        {
            // [rip+disp32]: the code sits at the same address on both sides, so the target agrees.
            return new MemoryOperand(Register.RIP, Register.None, 1, (long)ea, 8);
        }
        if (baseIdx < 0 || form < 20)
        {
            // [disp32] with neither base nor index (SIB absolute form); the window lies below 2 GiB.
            return new MemoryOperand(Register.None, Register.None, 1, (long)ea, 8);
        }
        var baseReg = Register.RAX + baseIdx;
        if (form < 28)
        {
            State.Gprs[baseIdx] = ea;
            return new MemoryOperand(baseReg, Register.None, 1, 0, 0);
        }
        if (form < 48)
        {
            long d = (sbyte)Rng.Next();
            State.Gprs[baseIdx] = ea - (ulong)d;
            return new MemoryOperand(baseReg, Register.None, 1, d, 1);
        }
        if (form < 62)
        {
            long d = (int)Rng.Next();
            State.Gprs[baseIdx] = ea - (ulong)d;
            return new MemoryOperand(baseReg, Register.None, 1, d, 4);
        }
        if (indexIdx < 0)
        {
            State.Gprs[baseIdx] = ea;
            return new MemoryOperand(baseReg, Register.None, 1, 0, 0);
        }
        var indexReg = Register.RAX + indexIdx;
        int scale = 1 << Rng.Below(4);
        if (form < 70 && !_fsPrefix)
        {
            // [index*scale + disp32], no base.
            ulong idx = (ulong)Rng.Below(0x400);
            State.Gprs[indexIdx] = idx;
            return new MemoryOperand(Register.None, indexReg, scale, (long)(ea - idx * (ulong)scale), 4);
        }
        {
            ulong idx = Rng.Chance(0.7) ? (ulong)(long)Rng.Range(-64, 256) : Rng.Next();
            long d = Rng.Below(3) switch { 0 => 0, 1 => (sbyte)Rng.Next(), _ => (int)Rng.Next() };
            int dsz = d == 0 ? 0 : d is >= sbyte.MinValue and <= sbyte.MaxValue ? 1 : 4;
            State.Gprs[indexIdx] = idx;
            State.Gprs[baseIdx] = ea - idx * (ulong)scale - (ulong)d;
            return new MemoryOperand(baseReg, indexReg, scale, d, dsz);
        }
    }

    /// <summary>
    /// 32-bit addressing (0x67 prefix): base, index and displacement are added modulo 2^32, so the
    /// upper halves of the registers must be ignored and the sum may wrap.
    /// </summary>
    private MemoryOperand BuildAddressing32(ulong ea, int baseIdx, int indexIdx)
    {
        ulong Garbage() => Rng.Chance(0.5) ? Rng.Next() << 32 : 0;
        uint target = (uint)ea;
        switch (Rng.Below(5))
        {
            case 0:
                return new MemoryOperand(Register.EIP, Register.None, 1, (long)ea, 4);
            case 1:
                return new MemoryOperand(Register.None, Register.None, 1, (long)ea, 4);
            case 2:
                {
                    long d = (sbyte)Rng.Next();
                    State.Gprs[baseIdx] = Garbage() | (uint)(target - (uint)d);
                    return new MemoryOperand(Register.EAX + baseIdx, Register.None, 1, d, 1);
                }
            case 3 when indexIdx >= 0:
                {
                    int scale = 1 << Rng.Below(4);
                    uint idx = (uint)Rng.Next();
                    long d = (int)Rng.Next();
                    State.Gprs[indexIdx] = Garbage() | idx;
                    State.Gprs[baseIdx] = Garbage() | (uint)(target - idx * (uint)scale - (uint)d);
                    return new MemoryOperand(Register.EAX + baseIdx, Register.EAX + indexIdx, scale, d, 4);
                }
            default:
                {
                    int scale = 1 << Rng.Below(4);
                    uint idx = (uint)Rng.Below(0x400);
                    State.Gprs[baseIdx] = Garbage() | idx;
                    return new MemoryOperand(Register.None, Register.EAX + baseIdx, scale, (long)(target - idx * (uint)scale), 4);
                }
        }
    }

    private Instruction Create()
    {
        var code = Code;
        Operand o0 = _ops[0], o1 = _ops[1], o2 = _ops[2];
        switch (OpCount)
        {
            case 0:
                return Instruction.Create(code);
            case 1:
                return o0.Type switch
                {
                    OperandType.Register => Instruction.Create(code, o0.Register),
                    OperandType.Memory => Instruction.Create(code, _memory),
                    _ => Instruction.Create(code, (int)o0.Immediate),
                };
            case 2:
                return (o0.Type, o1.Type) switch
                {
                    (OperandType.Register, OperandType.Register) => Instruction.Create(code, o0.Register, o1.Register),
                    (OperandType.Register, OperandType.Memory) => Instruction.Create(code, o0.Register, _memory),
                    (OperandType.Memory, OperandType.Register) => Instruction.Create(code, _memory, o1.Register),
                    (OperandType.Register, OperandType.Immediate) when o1.Kind == OpCodeOperandKind.imm64 =>
                        Instruction.Create(code, o0.Register, (ulong)o1.Immediate),
                    (OperandType.Register, OperandType.Immediate) => Instruction.Create(code, o0.Register, (int)o1.Immediate),
                    (OperandType.Memory, OperandType.Immediate) => Instruction.Create(code, _memory, (int)o1.Immediate),
                    _ => throw new NotSupportedException($"{code}: operand shapes {o0.Type}, {o1.Type}"),
                };
            case 3:
                return (o0.Type, o1.Type, o2.Type) switch
                {
                    (OperandType.Register, OperandType.Register, OperandType.Immediate) => Instruction.Create(code, o0.Register, o1.Register, (int)o2.Immediate),
                    (OperandType.Register, OperandType.Memory, OperandType.Immediate) => Instruction.Create(code, o0.Register, _memory, (int)o2.Immediate),
                    (OperandType.Memory, OperandType.Register, OperandType.Immediate) => Instruction.Create(code, _memory, o1.Register, (int)o2.Immediate),
                    (OperandType.Register, OperandType.Register, OperandType.Register) => Instruction.Create(code, o0.Register, o1.Register, o2.Register),
                    (OperandType.Memory, OperandType.Register, OperandType.Register) => Instruction.Create(code, _memory, o1.Register, o2.Register),
                    _ => throw new NotSupportedException($"{code}: operand shapes {o0.Type}, {o1.Type}, {o2.Type}"),
                };
            default:
                throw new NotSupportedException($"{code}: {OpCount} operands");
        }
    }

    /// <summary>
    /// Encodes <paramref name="ins"/>, decodes it back, checks that it cannot fault on the host
    /// (a host fault kills the test process) and computes the output masks.
    /// </summary>
    public bool TryComplete(Instruction ins, bool checkMemory, out DiffCase? result)
    {
        result = null;
        _writer.Clear();
        if (!_encoder.TryEncode(ins, DiffLayout.CodeAddress, out _, out _))
            return false;
        int length = _writer.Count;
        if (Suffix is not null)
        {
            foreach (byte x in Suffix)
                _writer.WriteByte(x);
        }
        while (_writer.Count < PadTo)
            _writer.WriteByte(0x90);
        result = Finish(_writer.ToArray(), length, checkMemory);
        return true;
    }

    /// <summary>
    /// Completes a case from raw bytes: prefix combinations the encoder does not produce. The first
    /// instruction is the one under test; <paramref name="length"/> is its expected length.
    /// </summary>
    public DiffCase CompleteRaw(byte[] bytes, int length) => Finish(bytes, length, checkMemory: true);

    private DiffCase Finish(byte[] bytes, int length, bool checkMemory)
    {
        var decoder = Decoder.Create(64, bytes, DiffLayout.CodeAddress);
        decoder.Decode(out var decoded);
        if (decoded.IsInvalid || decoded.Length != length)
            throw new InvalidOperationException($"{Code}: encoded {Convert.ToHexString(bytes)} decodes as {decoded}");

        var c = new DiffCase { Code = bytes, Instruction = decoded, Input = State, Data = Data, Note = Note };
        if (checkMemory)
            CheckMemory(c);
        if (decoded.Mnemonic is Mnemonic.Div or Mnemonic.Idiv)
            DivisionGuard.Check(c);
        DefinedOutputs.Apply(c);
        return c;
    }

    private void CheckMemory(DiffCase c)
    {
        var ins = c.Instruction;
        var info = _infoFactory.GetInfo(ins);
        foreach (var um in info.GetUsedMemory())
        {
            if (um.Access == OpAccess.NoMemAccess)
                continue;
            ulong addr = um.GetVirtualAddress(0, (Register reg, int _, int _) =>
                reg == Register.None ? 0
                : reg == Register.FS ? c.Input.FsBase
                : reg.IsSegmentRegister() ? 0
                : reg == Register.RIP ? ins.NextIP
                : DefinedOutputs.ReadRegister(c.Input, reg));
            int size = Math.Max(um.MemorySize.GetSize(), 1);
            if (addr < DiffLayout.DataBase || addr + (ulong)size > DiffLayout.DataEnd)
                throw new InvalidOperationException($"generator bug: {ins} accesses 0x{addr:x}+{size} outside the data window");
            if (size == 16 && ins.Encoding == EncodingKind.Legacy && NeedsAlignedM128(ins.Mnemonic)
                && ins.Mnemonic is not (Mnemonic.Cmpxchg16b) && (addr & 15) != 0)
                throw new InvalidOperationException($"generator bug: {ins} needs a 16-byte aligned operand, got 0x{addr:x}");
            if (ins.Mnemonic == Mnemonic.Cmpxchg16b && (addr & 15) != 0)
                throw new InvalidOperationException($"generator bug: cmpxchg16b at unaligned 0x{addr:x}");
            c.MemoryOperands.Add((addr, size));
        }
    }
}
