using System.Buffers.Binary;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Tests.Differential;
using Actors.HwBackend.Tests.Emulation;
using Iced.Intel;

namespace Actors.HwBackend.Tests.Sse;

/// <summary>
/// A one-CPU emulated machine in 64-bit mode for running short SSE snippets: identity-mapped low
/// 2 MiB, a flat GDT and an IDT whose every exception stub records its vector in R15 and halts, so
/// a test sees which exception an instruction raised instead of a triple fault.
/// </summary>
internal sealed class SseMachine : IDisposable
{
    public const ulong CodeBase = 0x10000;
    public const ulong DataBase = 0x20000;
    public const int DataSize = 0x2000;
    public const ulong StackTop = 0x80000;

    /// <summary>Guest-physical backing of the window mapped at the native executor's data address.</summary>
    public const ulong WindowPhysical = 0x100000;

    private const ulong Pml4 = 0x1000, Pdpt = 0x2000, Pd = 0x3000, Pt = 0x4000, PtWindow = 0x5000, Gdt = 0x6000, Idt = 0x7000, Stubs = 0x8000;
    private const ulong NoVector = 0xFFFF_FFFF_FFFF_FFFF;

    private readonly IVirtualMachine _machine;
    private readonly IVirtualProcessor _vp;

    public SseMachine()
    {
        _machine = TestMachines.Create(2 * 1024 * 1024);
        _vp = _machine.Processors[0];
        var mem = _machine.Memory;
        mem.WriteValue(Pml4, Pdpt | 3);
        mem.WriteValue(Pdpt, Pd | 3);
        mem.WriteValue(Pd, Pt | 3);
        for (ulong i = 0; i < 512; i++)
            mem.WriteValue(Pt + i * 8, (i << 12) | 3);
        // The differential data window, at the same virtual address as on the host.
        ulong window = DiffLayout.DataBase;
        mem.WriteValue(Pd + ((window >> 21) & 511) * 8, PtWindow | 3);
        for (ulong page = 0; page < DiffLayout.DataSize / 4096; page++)
            mem.WriteValue(PtWindow + (((window >> 12) + page) & 511) * 8, (WindowPhysical + page * 4096) | 3);
        mem.WriteValue(Gdt + 0x08, 0x00AF_9B00_0000_FFFFUL); // 64-bit code
        mem.WriteValue(Gdt + 0x10, 0x00CF_9300_0000_FFFFUL); // flat data
        mem.WriteValue(Gdt + 0x18, 0x00CF_9B00_0000_FFFFUL); // 32-bit code (compatibility mode)
        for (int v = 0; v < 32; v++)
        {
            ulong stub = Stubs + (ulong)v * 16;
            // mov r15d, v ; hlt
            mem.Write(stub, [0x41, 0xBF, (byte)v, 0, 0, 0, 0xF4]);
            ulong lo = (stub & 0xFFFF) | (0x08UL << 16) | (0x8EUL << 40) | ((stub >> 16 & 0xFFFF) << 48);
            mem.WriteValue(Idt + (ulong)v * 16, lo);
            mem.WriteValue(Idt + (ulong)v * 16 + 8, stub >> 32);
        }

        var data = SegmentRegister.Long64(0x10, false);
        State = new VpState
        {
            Cr0 = 0x8000_0033, // PG NE ET MP PE
            Cr3 = Pml4,
            Cr4 = 0x620, // OSXMMEXCPT OSFXSR PAE
            Efer = 0xD01,
            Cs = SegmentRegister.Long64(0x8, true),
            Ss = data,
            Ds = data,
            Es = data,
            Fs = data,
            Gs = data,
            Tr = new SegmentRegister(0x18, 0x9000, 0x67, 0xB, true, 0, false, false, false, false, false, false),
            Ldtr = SegmentRegister.Null,
            Gdtr = new DescriptorTableRegister(Gdt, 0x1F),
            Idtr = new DescriptorTableRegister(Idt, 32 * 16 - 1),
            Rip = CodeBase,
        };
        State.Gprs[4] = StackTop;
        State.Gprs[15] = NoVector;
    }

    /// <summary>The state the next <see cref="Run(Action{Assembler})"/> starts from; tests adjust it.</summary>
    public VpState State { get; }

    public void SetXmm(int n, ulong low, ulong high)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(State.FxsaveArea.AsSpan(160 + 16 * n), low);
        BinaryPrimitives.WriteUInt64LittleEndian(State.FxsaveArea.AsSpan(168 + 16 * n), high);
    }

    public void SetXmm(int n, double low, double high) =>
        SetXmm(n, BitConverter.DoubleToUInt64Bits(low), BitConverter.DoubleToUInt64Bits(high));

    public void SetXmm(int n, float a, float b, float c, float d) =>
        SetXmm(n, BitConverter.SingleToUInt32Bits(a) | ((ulong)BitConverter.SingleToUInt32Bits(b) << 32),
            BitConverter.SingleToUInt32Bits(c) | ((ulong)BitConverter.SingleToUInt32Bits(d) << 32));

    public uint Mxcsr
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(State.FxsaveArea.AsSpan(24));
        set => BinaryPrimitives.WriteUInt32LittleEndian(State.FxsaveArea.AsSpan(24), value);
    }

    public void WriteData(int offset, ReadOnlySpan<byte> bytes) => _machine.Memory.Write(DataBase + (ulong)offset, bytes);

    public void WriteData(int offset, ulong value) => _machine.Memory.WriteValue(DataBase + (ulong)offset, value);

    public byte[] ReadData(int offset, int length)
    {
        var b = new byte[length];
        _machine.Memory.Read(DataBase + (ulong)offset, b);
        return b;
    }

    /// <summary>Marks the 4 KiB page at <paramref name="va"/> (in the identity-mapped low 2 MiB) not present.</summary>
    public void UnmapPage(ulong va) => _machine.Memory.WriteValue(Pt + (va >> 12) * 8, 0UL);

    public void WritePhysical(ulong address, ReadOnlySpan<byte> bytes) => _machine.Memory.Write(address, bytes);

    public ulong ReadPhysical64(ulong address) => _machine.Memory.ReadValue<ulong>(address);

    public void WriteWindow(ReadOnlySpan<byte> bytes) => _machine.Memory.Write(WindowPhysical, bytes);

    public void ReadWindow(Span<byte> bytes) => _machine.Memory.Read(WindowPhysical, bytes);

    public ulong ReadData64(int offset) => _machine.Memory.ReadValue<ulong>(DataBase + (ulong)offset);

    public static byte[] Assemble(Action<Assembler> emit, int bitness = 64)
    {
        var a = new Assembler(bitness);
        emit(a);
        a.hlt();
        var w = new ByteCodeWriter();
        a.Assemble(w, CodeBase);
        return w.ToArray();
    }

    /// <summary>Runs <paramref name="emit"/>'s code (a HLT is appended) to the first halt.</summary>
    public SseResult Run(Action<Assembler> emit) => Run(Assemble(emit));

    public SseResult Run(byte[] code)
    {
        _machine.Memory.Write(CodeBase, code);
        _vp.SetState(State);
        var exit = _vp.Run();
        var s = _vp.GetState();
        int vector = s.Gprs[15] == NoVector || s.Rip < Stubs || s.Rip >= Stubs + 32 * 16 ? -1 : (int)s.Gprs[15];
        return new SseResult(s, exit, vector);
    }

    public void Dispose() => _machine.Dispose();
}

internal sealed record SseResult(VpState State, VpExit Exit, int Vector)
{
    public ulong Lo(int n) => BinaryPrimitives.ReadUInt64LittleEndian(State.FxsaveArea.AsSpan(160 + 16 * n));

    public ulong Hi(int n) => BinaryPrimitives.ReadUInt64LittleEndian(State.FxsaveArea.AsSpan(168 + 16 * n));

    public double D(int n, int lane = 0) => BitConverter.UInt64BitsToDouble(lane == 0 ? Lo(n) : Hi(n));

    public float F(int n, int lane) => BitConverter.UInt32BitsToSingle(U32(n, lane));

    public uint U32(int n, int lane) => BinaryPrimitives.ReadUInt32LittleEndian(State.FxsaveArea.AsSpan(160 + 16 * n + 4 * lane));

    public ulong Gpr(int n) => State.Gprs[n];

    public uint Mxcsr => BinaryPrimitives.ReadUInt32LittleEndian(State.FxsaveArea.AsSpan(24));

    public ulong Flags => State.Rflags & 0x8D5;
}
