using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.Bench;

/// <summary>
/// The guests of the <c>interrupts</c> benchmark, long-mode ELF64 images built with Iced. Both
/// set up their own IDT and enable the local APIC the way an OS would.
/// </summary>
internal static class InterruptBenchGuests
{
    public const ushort ReadyPort = 0x500;
    public const ushort TimestampLowPort = 0x504;
    public const ushort TimestampHighPort = 0x508;
    public const byte UartVector = 0x40;
    public const byte TimerVector = 0x41;

    /// <summary>Where the timer guest keeps its data: +0 tick count, +8 TSC at start, +0x1000 one TSC per tick.</summary>
    public const ulong DataBase = 0x31_0000;
    public const ulong TickLog = DataBase + 0x1000;

    private const ulong IdtBase = 0x30_0000;
    private const ulong LapicBase = 0xFEE0_0000;
    private const ulong IoApicBase = 0xFEC0_0000;
    private const int UartIoApicPin = 4;

    /// <summary>
    /// Routes COM1's receive interrupt through the IOAPIC to vector 0x40, then waits for it either
    /// halted (<c>sti; hlt</c>) or spinning with interrupts on. The handler reports its RDTSC on
    /// ports 0x504/0x508, drains the receive buffer, sends EOI and reports done on port 0x500.
    /// </summary>
    public static byte[] UartLatency(bool halted) => BenchGuests.Build(a =>
    {
        var handler = a.CreateLabel();
        var idtr = a.CreateLabel();
        var wait = a.CreateLabel();
        SetGate(a, UartVector, handler);
        a.lidt(__[idtr]);
        EnableLocalApic(a);
        a.mov(rsi, IoApicBase);
        // Both interrupt controllers see IRQ 4: mask the 8259s so only the IOAPIC delivers it.
        a.mov(al, 0xFF);
        a.@out(0x21, al);
        a.@out(0xA1, al);
        a.mov(__dword_ptr[rsi], 0x10 + 2 * UartIoApicPin);
        a.mov(__dword_ptr[rsi + 0x10], UartVector); // fixed, physical, edge, active high, unmasked
        a.mov(__dword_ptr[rsi], 0x11 + 2 * UartIoApicPin);
        a.mov(__dword_ptr[rsi + 0x10], 0); // destination APIC 0
        a.mov(dx, 0x3F9);
        a.mov(al, 1); // IER: received data available
        a.@out(dx, al);
        a.mov(dx, 0x3FC);
        a.mov(al, 0x08); // MCR: OUT2 connects the interrupt to the board
        a.@out(dx, al);
        a.mov(dx, ReadyPort);
        a.@out(dx, eax);
        a.Label(ref wait);
        a.sti();
        if (halted)
            a.hlt();
        else
            a.pause();
        a.jmp(wait);

        a.Label(ref handler);
        a.rdtsc();
        a.mov(ecx, edx);
        a.mov(dx, TimestampLowPort);
        a.@out(dx, eax);
        a.mov(eax, ecx);
        a.mov(dx, TimestampHighPort);
        a.@out(dx, eax);
        // Drain the receive buffer, as a driver does: the IOAPIC pin is edge-triggered, so a byte
        // left behind would keep the line high and no further edge would ever come.
        var drain = a.CreateLabel();
        var drained = a.CreateLabel();
        a.Label(ref drain);
        a.mov(dx, 0x3FD);
        a.@in(al, dx);
        a.test(al, 1);
        a.jz(drained);
        a.mov(dx, 0x3F8);
        a.@in(al, dx);
        a.jmp(drain);
        a.Label(ref drained);
        a.mov(__dword_ptr[rbx + 0xB0], 0);
        // Done: the host sends the next byte only now, so no byte ever arrives while the line is still high.
        a.mov(dx, ReadyPort);
        a.@out(dx, eax);
        a.iretq();

        Idtr(a, ref idtr);
    });

    /// <summary>
    /// Runs the local APIC timer periodically at <paramref name="hz"/> (divide by 1, one count per
    /// nanosecond) for <paramref name="ticks"/> interrupts, logging each one's RDTSC, then exits.
    /// </summary>
    public static byte[] PeriodicTimer(int hz, int ticks, bool halted = true) => BenchGuests.Build(a =>
    {
        var handler = a.CreateLabel();
        var idtr = a.CreateLabel();
        var wait = a.CreateLabel();
        SetGate(a, TimerVector, handler);
        a.lidt(__[idtr]);
        EnableLocalApic(a);
        a.mov(__dword_ptr[rbx + 0x3E0], 0xB); // divide by 1
        a.mov(__dword_ptr[rbx + 0x320], (1 << 17) | TimerVector); // periodic
        a.mov(__qword_ptr[DataBase], 0);
        ReadTsc(a);
        a.mov(__qword_ptr[DataBase + 8], rax);
        a.mov(__dword_ptr[rbx + 0x380], 1_000_000_000 / hz);
        a.Label(ref wait);
        a.sti();
        if (halted)
            a.hlt();
        else
            a.pause();
        a.cmp(__qword_ptr[DataBase], ticks);
        a.jb(wait);
        a.mov(__dword_ptr[rbx + 0x380], 0);
        a.xor(eax, eax);
        a.mov(dx, 0xF4);
        a.@out(dx, eax);
        a.hlt();

        a.Label(ref handler);
        ReadTsc(a);
        a.mov(rcx, __qword_ptr[DataBase]);
        a.cmp(rcx, ticks);
        var full = a.CreateLabel();
        a.jae(full);
        a.mov(rdi, TickLog);
        a.mov(__qword_ptr[rdi + rcx * 8], rax);
        a.inc(__qword_ptr[DataBase]);
        a.Label(ref full);
        a.mov(__dword_ptr[rbx + 0xB0], 0);
        a.iretq();

        Idtr(a, ref idtr);
    });

    /// <summary>A 64-bit interrupt gate for <paramref name="vector"/>, written by the guest itself.</summary>
    private static void SetGate(Assembler a, byte vector, Label handler)
    {
        ulong gate = IdtBase + vector * 16UL;
        a.lea(rax, __[handler]);
        a.mov(__word_ptr[gate], ax);
        a.mov(__word_ptr[gate + 2], 0x10); // the loader's 64-bit code selector
        a.mov(__word_ptr[gate + 4], 0x8E00); // present, DPL 0, interrupt gate
        a.shr(rax, 16);
        a.mov(__word_ptr[gate + 6], ax);
        a.shr(rax, 16);
        a.mov(__dword_ptr[gate + 8], eax);
        a.mov(__dword_ptr[gate + 12], 0);
    }

    /// <summary>Points RBX at the APIC page (the handlers use it too) and software-enables the APIC.</summary>
    /// <summary>RAX = the 64-bit TSC (clobbers RDX).</summary>
    private static void ReadTsc(Assembler a)
    {
        a.rdtsc();
        a.shl(rdx, 32);
        a.or(rax, rdx);
    }

    private static void EnableLocalApic(Assembler a)
    {
        // Absolute 32-bit displacements sign-extend in 64-bit mode, so 0xFEE00000 goes in a register.
        a.mov(rbx, LapicBase);
        a.mov(__dword_ptr[rbx + 0xF0], 0x1FF);
    }

    private static void Idtr(Assembler a, ref Label idtr)
    {
        a.Label(ref idtr);
        a.dw(256 * 16 - 1);
        a.dq(IdtBase);
    }
}
