using System.Buffers.Binary;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.Bench;

/// <summary>
/// Guests the cluster benchmark needs and the conformance suite must not run (one never exits),
/// generated as minimal ELF64 images that the loader enters directly in long mode at 1 MiB.
/// </summary>
internal static class BenchGuests
{
    private const ulong LoadAddress = 0x10_0000;
    private const int HeaderBytes = 64 + 56; // ELF header + one program header

    /// <summary>Prints "idle\n", then halts with interrupts off: the vCPU parks and the VM idles until stopped.</summary>
    public static byte[] Idle() => Build(a =>
    {
        var halt = a.CreateLabel();
        a.mov(dx, 0x3F8);
        foreach (char ch in "idle\n")
        {
            a.mov(al, (byte)ch);
            a.@out(dx, al);
        }
        a.cli();
        a.Label(ref halt);
        a.hlt();
        a.jmp(halt);
    });

    /// <summary>Writes <paramref name="bytes"/> bytes of text (64-byte lines) to COM1, then exits through isa-debug-exit with 0.</summary>
    public static byte[] Flood(int bytes) => Build(a =>
    {
        var loop = a.CreateLabel();
        var newline = a.CreateLabel();
        var emit = a.CreateLabel();
        a.mov(dx, 0x3F8);
        a.mov(ecx, bytes);
        a.xor(ebx, ebx);
        a.Label(ref loop);
        a.mov(eax, ebx);
        a.and(eax, 63);
        a.cmp(eax, 63);
        a.je(newline);
        a.mov(al, (byte)'x');
        a.jmp(emit);
        a.Label(ref newline);
        a.mov(al, (byte)'\n');
        a.Label(ref emit);
        a.@out(dx, al);
        a.inc(ebx);
        a.cmp(ebx, ecx);
        a.jne(loop);
        a.mov(dx, 0xF4);
        a.xor(eax, eax);
        a.@out(dx, eax);
        a.hlt();
    });

    internal static byte[] Build(Action<Assembler> emit)
    {
        var assembler = new Assembler(64);
        emit(assembler);
        var code = new List<byte>();
        assembler.Assemble(new ListWriter(code), LoadAddress + HeaderBytes);

        var image = new byte[HeaderBytes + code.Count];
        var e = image.AsSpan();
        "\x7F"u8.CopyTo(e);
        "ELF"u8.CopyTo(e[1..]);
        e[4] = 2; // 64-bit
        e[5] = 1; // little-endian
        e[6] = 1; // ELF version
        BinaryPrimitives.WriteUInt16LittleEndian(e[16..], 2); // executable
        BinaryPrimitives.WriteUInt16LittleEndian(e[18..], 0x3E); // x86-64
        BinaryPrimitives.WriteUInt32LittleEndian(e[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(e[24..], LoadAddress + HeaderBytes); // entry
        BinaryPrimitives.WriteUInt64LittleEndian(e[32..], 64); // program headers
        BinaryPrimitives.WriteUInt16LittleEndian(e[52..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(e[54..], 56);
        BinaryPrimitives.WriteUInt16LittleEndian(e[56..], 1);
        var ph = e[64..];
        BinaryPrimitives.WriteUInt32LittleEndian(ph, 1); // PT_LOAD
        BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], 5); // R+X
        BinaryPrimitives.WriteUInt64LittleEndian(ph[16..], LoadAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[24..], LoadAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], (ulong)image.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], (ulong)image.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[48..], 0x1000);
        code.CopyTo(image, HeaderBytes);
        return image;
    }

    private sealed class ListWriter(List<byte> bytes) : CodeWriter
    {
        public override void WriteByte(byte value) => bytes.Add(value);
    }
}
