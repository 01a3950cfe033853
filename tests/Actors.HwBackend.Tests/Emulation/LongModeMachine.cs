using System.Buffers.Binary;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Tests.Differential;
using Actors.HwBackend.Tests.Emulation;
using Iced.Intel;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// A 16 MiB emulator machine put straight into 64-bit long mode at CPL 0: identity-mapped page
/// tables over 4 GiB, a flat GDT, an IDT the test fills with handlers, code assembled with Iced.
/// </summary>
internal sealed class LongModeMachine : IDisposable
{
    public const ulong GdtBase = 0x1000, IdtBase = 0x2000, TablesBase = 0x100000, CodeBase = 0x10000, HandlerBase = 0x30000, StackTop = 0x80000;
    public const ushort CodeSelector = 0x08, DataSelector = 0x10;

    public LongModeMachine(ulong memoryBytes = 16UL << 20, int processors = 1, CpuTierOptions? tier = null)
    {
        Machine = TestMachines.Create(memoryBytes, processors, tier);
        Vp = Machine.Processors[0];
        var gdt = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(gdt.AsSpan(8), 0x00AF_9B00_0000_FFFF); // 64-bit code, DPL 0
        BinaryPrimitives.WriteUInt64LittleEndian(gdt.AsSpan(16), 0x00CF_9300_0000_FFFF); // data, DPL 0
        Machine.Memory.Write(GdtBase, gdt);
        ulong coverage = IdentityPageTables.CoverageFor(Machine.Memory);
        Machine.Memory.Write(TablesBase, IdentityPageTables.Build(TablesBase, coverage, Machine.Memory));
    }

    public IVirtualMachine Machine { get; }

    public IVirtualProcessor Vp { get; }

    public VpState InitialState(ulong rip = CodeBase) => new()
    {
        Rip = rip,
        Rflags = 0x2,
        Gprs = { [4] = StackTop },
        Cs = SegmentRegister.Long64(CodeSelector, code: true),
        Ds = SegmentRegister.Long64(DataSelector, code: false),
        Es = SegmentRegister.Long64(DataSelector, code: false),
        Ss = SegmentRegister.Long64(DataSelector, code: false),
        Fs = SegmentRegister.Long64(DataSelector, code: false),
        Gs = SegmentRegister.Long64(DataSelector, code: false),
        Tr = new SegmentRegister(0, 0, 0x67, 11, true, 0, false, false, false, false, false, false),
        Gdtr = new DescriptorTableRegister(GdtBase, 23),
        Idtr = new DescriptorTableRegister(IdtBase, 256 * 16 - 1),
        Cr0 = 0x8000_0033,
        Cr3 = TablesBase,
        Cr4 = 0x620,
        Efer = 0xD01,
    };

    /// <summary>Assembles 64-bit code at <paramref name="address"/> and returns its length.</summary>
    public int Load(ulong address, Action<Assembler> emit) => Load(64, address, emit);

    /// <summary>Assembles code for a <paramref name="bitness"/>-bit mode at <paramref name="address"/> and returns its length.</summary>
    public int Load(int bitness, ulong address, Action<Assembler> emit)
    {
        var a = new Assembler(bitness);
        emit(a);
        var writer = new ByteCodeWriter();
        a.Assemble(writer, address);
        byte[] bytes = writer.ToArray();
        Machine.Memory.Write(address, bytes);
        return bytes.Length;
    }

    /// <summary>
    /// Assembles code for a <paramref name="bitness"/>-bit mode at <paramref name="address"/>; <paramref name="emit"/>
    /// returns the labels whose addresses the caller wants, in the order it wants them.
    /// </summary>
    public ulong[] LoadLabelled(int bitness, ulong address, Func<Assembler, Label[]> emit)
    {
        var a = new Assembler(bitness);
        Label[] labels = emit(a);
        var writer = new ByteCodeWriter();
        var result = a.Assemble(writer, address, BlockEncoderOptions.ReturnNewInstructionOffsets);
        Machine.Memory.Write(address, writer.ToArray());
        return labels.Select(l => result.GetLabelRIP(l)).ToArray();
    }

    /// <summary>Points IDT vector <paramref name="vector"/> at <paramref name="handler"/> (64-bit interrupt gate, DPL 3 so INT n works from any ring).</summary>
    public void SetGate(int vector, ulong handler, int ist = 0)
    {
        var gate = new byte[16];
        ulong lo = (handler & 0xFFFF) | ((ulong)CodeSelector << 16) | ((ulong)ist << 32) | (0xEEUL << 40) | ((handler >> 16 & 0xFFFF) << 48);
        BinaryPrimitives.WriteUInt64LittleEndian(gate, lo);
        BinaryPrimitives.WriteUInt64LittleEndian(gate.AsSpan(8), handler >> 32);
        Machine.Memory.Write(IdtBase + (ulong)vector * 16, gate);
    }

    /// <summary>Runs vCPU 0 until its next exit, whatever it is.</summary>
    public VpExit Run() => Vp.Run();

    public void Dispose() => Machine.Dispose();

}
