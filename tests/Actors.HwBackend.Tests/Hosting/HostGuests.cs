using Actors.HwBackend.Devices;
using Actors.HwBackend.Tests.Boot;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Hosting;

/// <summary>Tiny ELF64 guests assembled with Iced for the host tests; the loader enters them in long mode at CPL 0.</summary>
internal static class HostGuests
{
    public const ulong LoadAddress = 0x100000;
    public const ushort UnusedPort = 0x80;

    /// <summary>Counts in RAX forever without an exit.</summary>
    public static byte[] EndlessLoop() => Build(a =>
    {
        var loop = a.CreateLabel();
        a.Label(ref loop);
        a.inc(rax);
        a.jmp(loop);
    });

    /// <summary>Writes <paramref name="portWrites"/> bytes to an unused port, makes one hypercall, and exits with 0 when it returned HV_STATUS_INVALID_HYPERCALL_CODE, else 1.</summary>
    public static byte[] PortWritesAndHypercall(int portWrites) => Build(a =>
    {
        var bad = a.CreateLabel();
        a.mov(ecx, portWrites);
        a.mov(dx, UnusedPort);
        var loop = a.CreateLabel();
        a.Label(ref loop);
        a.@out(dx, al);
        a.dec(ecx);
        a.jnz(loop);
        a.mov(eax, 0x1234);
        a.vmcall();
        a.cmp(rax, 2);
        a.jne(bad);
        Exit(a, 0);
        a.Label(ref bad);
        Exit(a, 1);
    });

    /// <summary>Echoes console input back until it reads 'q', then exits with 0.</summary>
    public static byte[] Echo() => Build(a =>
    {
        var poll = a.CreateLabel();
        var done = a.CreateLabel();
        a.Label(ref poll);
        a.mov(dx, Uart16550.Com1Port + 5);
        a.@in(al, dx);
        a.test(al, 1);
        a.jz(poll);
        a.mov(dx, Uart16550.Com1Port);
        a.@in(al, dx);
        a.cmp(al, (byte)'q');
        a.je(done);
        a.@out(dx, al);
        a.jmp(poll);
        a.Label(ref done);
        Exit(a, 0);
    });

    /// <summary>HLT with interrupts off: nothing can wake it.</summary>
    public static byte[] HaltForever() => Build(a =>
    {
        a.cli();
        a.hlt();
    });

    /// <summary>UD2 with an empty IDT: #UD cannot be delivered, nor the #DF that follows.</summary>
    public static byte[] TripleFault() => Build(a =>
    {
        var idt = a.CreateLabel();
        a.lidt(__[idt]);
        a.ud2();
        a.Label(ref idt);
        a.dw(0);
        a.dq(0);
    });

    private static void Exit(Assembler a, int value)
    {
        a.mov(eax, value);
        a.mov(dx, DebugExitDevice.DefaultPort);
        a.@out(dx, eax);
        a.hlt();
    }

    private static byte[] Build(Action<Assembler> emit)
    {
        var a = new Assembler(64);
        emit(a);
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), LoadAddress);
        return TestImages.Elf64(LoadAddress, [new TestSegment(LoadAddress, stream.ToArray(), 0x1000)]);
    }
}
