using Actors.HwBackend.Devices.Legacy;
using Actors.HwBackend.Tests.Boot;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Worker;

/// <summary>Tiny ELF64 guests assembled with Iced for the host tests; the loader enters them in long mode at CPL 0.</summary>
internal static class HostGuests
{
    public const ulong LoadAddress = 0x100000;
    public const ushort UnusedPort = 0xE0;

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

    /// <summary>
    /// From its first byte: reads port <see cref="UnusedPort"/> twice and writes it once (2 bytes
    /// each), then RDMSR of <paramref name="msr"/> at <see cref="LoadAddress"/> + 11, or (with no
    /// MSR) FSIN, an x87 instruction the CPU does not implement, at the same address. Either one
    /// faults with no IDT to take it, so the guest ends with a triple fault.
    /// </summary>
    public static byte[] UnimplementedUses(uint? msr) => Build(a =>
    {
        a.@in(al, (byte)UnusedPort);
        a.@in(al, (byte)UnusedPort);
        a.@out((byte)UnusedPort, al);
        a.mov(ecx, msr ?? 0); // 5 bytes
        if (msr is null)
            a.fsin();
        else
            a.rdmsr();
        a.hlt();
    });

    /// <summary>Reads port <see cref="UnusedPort"/> twice, then spins without exits.</summary>
    public static byte[] PortReadsThenSpin() => Build(a =>
    {
        a.@in(al, (byte)UnusedPort);
        a.@in(al, (byte)UnusedPort);
        var spin = a.CreateLabel();
        a.Label(ref spin);
        a.jmp(spin);
    });

    public const ulong HypercallPage = 0x200000;

    /// <summary>
    /// For an enlightened partition: sets the guest OS id and the hypercall page at
    /// <see cref="HypercallPage"/>, then calls into the page twice, a fast HvSignalEvent to
    /// connection 2 and an unknown call code, and exits with 0 when the results were
    /// HV_STATUS_INVALID_CONNECTION_ID (nothing is connected) and HV_STATUS_INVALID_HYPERCALL_CODE, else 1.
    /// </summary>
    public static byte[] HypercallsThroughThePage() => Build(a =>
    {
        var bad = a.CreateLabel();
        a.mov(rsp, 0x90000);
        a.mov(ecx, 0x4000_0000); // GUEST_OS_ID: open source Linux 6.1
        a.mov(edx, 0x8100_0000);
        a.mov(eax, 0x0601_0000);
        a.wrmsr();
        a.mov(ecx, 0x4000_0001); // HYPERCALL: the page, enabled
        a.xor(edx, edx);
        a.mov(eax, (uint)HypercallPage | 1);
        a.wrmsr();
        a.mov(r9, HypercallPage);
        a.mov(rcx, 0x1_005D); // HvSignalEvent, fast
        a.mov(rdx, 2);
        a.call(r9);
        a.cmp(rax, 0x12);
        a.jne(bad);
        a.mov(rcx, 0x99);
        a.call(r9);
        a.cmp(rax, 2);
        a.jne(bad);
        Exit(a, 0);
        a.Label(ref bad);
        Exit(a, 1);
    });

    /// <summary>
    /// Writes the hypercall port before it has enabled hypercalls (an ordinary port write, which leaves RAX as it
    /// was), then enables them and calls an unknown call code through the page; exits with 0 when both went so,
    /// else 1.
    /// </summary>
    public static byte[] HypercallPortBeforeEnabling() => Build(a =>
    {
        var bad = a.CreateLabel();
        a.mov(rsp, 0x90000);
        a.mov(rcx, 0x99);
        a.mov(eax, 0x1234);
        a.@out((byte)Abstractions.HypercallConvention.Port, al);
        a.cmp(rax, 0x1234);
        a.jne(bad);
        a.mov(ecx, 0x4000_0000); // GUEST_OS_ID
        a.mov(edx, 0x8100_0000);
        a.mov(eax, 0x0601_0000);
        a.wrmsr();
        a.mov(ecx, 0x4000_0001); // HYPERCALL
        a.xor(edx, edx);
        a.mov(eax, (uint)HypercallPage | 1);
        a.wrmsr();
        a.mov(r9, HypercallPage);
        a.mov(rcx, 0x99);
        a.call(r9);
        a.cmp(rax, 2); // HV_STATUS_INVALID_HYPERCALL_CODE
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

    public const int FloodBytes = 200_000;

    /// <summary>
    /// Misprograms the platform the ways the PC-platform issue names, then exits with a bit set
    /// for each thing that did not behave as hardware does (0 = all as hardware):
    /// bit 0: a self-IPI with vector 3 did not set ESR "send illegal vector" (bit 5);
    /// bit 1: a PIT interrupt routed by the IOAPIC to APIC ID 0xEE (no such CPU) reached us anyway;
    /// bit 2: the APIC timer with initial count 0 (divide value 0, i.e. by 2) fired;
    /// bit 3: the timer's LVT with illegal vector 2 did not set ESR "receive illegal vector" (bit 6).
    /// In between it writes junk all over the APIC page and floods COM1 with
    /// <see cref="FloodBytes"/> bytes without looking at the line status.
    /// </summary>
    public static byte[] PlatformAbuse() => Build(a =>
    {
        const ulong lapic = 0xFEE0_0000, ioapic = 0xFEC0_0000;
        a.mov(rbx, lapic);
        a.mov(rsi, ioapic);
        a.xor(r15d, r15d); // failure bits
        a.mov(__dword_ptr[rbx + 0xF0], 0x1FF); // SVR: enabled, spurious vector 0xFF

        // A fixed self-IPI with a vector below 16.
        a.mov(__dword_ptr[rbx + 0x310], 0);
        a.mov(__dword_ptr[rbx + 0x300], (1 << 18) | 3);
        a.mov(__dword_ptr[rbx + 0x280], 0); // latch ESR
        a.mov(eax, __dword_ptr[rbx + 0x280]);
        var sendOk = a.CreateLabel();
        a.test(eax, 1 << 5);
        a.jnz(sendOk);
        a.or(r15d, 1);
        a.Label(ref sendOk);

        // The PIT, through IOAPIC pin 2, to a CPU that does not exist; the 8259s masked.
        a.mov(al, 0xFF);
        a.@out(0x21, al);
        a.@out(0xA1, al);
        a.mov(__dword_ptr[rsi], 0x10 + 2 * 2);
        a.mov(__dword_ptr[rsi + 0x10], 0x51);
        a.mov(__dword_ptr[rsi], 0x11 + 2 * 2);
        a.mov(__dword_ptr[rsi + 0x10], 0xEEu << 24);
        a.mov(al, 0x34); // channel 0, lobyte/hibyte, mode 2
        a.@out(0x43, al);
        a.xor(eax, eax); // count 0 = 65536
        a.@out(0x40, al);
        a.@out(0x40, al);

        // APIC timer: divide value 0, initial count 0 (stopped), then an illegal LVT vector.
        a.mov(__dword_ptr[rbx + 0x3E0], 0);
        a.mov(__dword_ptr[rbx + 0x320], 0x52);
        a.mov(__dword_ptr[rbx + 0x380], 0);

        // Junk all over the APIC page: every 16-byte register, an unaligned byte and the last dword.
        var junk = a.CreateLabel();
        a.xor(ecx, ecx);
        a.Label(ref junk);
        a.cmp(ecx, 0x300); // leave ICR (an IPI storm is not the point) and the timer registers for later
        var skip = a.CreateLabel();
        a.jae(skip);
        a.cmp(ecx, 0xF0); // and SVR, so the APIC stays enabled
        a.je(skip);
        a.mov(__dword_ptr[rbx + rcx], 0xFFFF_FFFF);
        a.Label(ref skip);
        a.add(ecx, 0x10);
        a.cmp(ecx, 0x1000);
        a.jb(junk);
        a.mov(__byte_ptr[rbx + 0x301], 0xAA);
        a.mov(__dword_ptr[rbx + 0xFFC], 0x1234_5678);
        a.mov(__dword_ptr[rbx + 0x80], 0); // TPR back to 0

        // Flood COM1 while the PIT runs (about 55 ms per period) and the timer waits.
        a.mov(dx, Uart16550.Com1Port);
        a.mov(ecx, FloodBytes);
        a.mov(al, (byte)'x');
        var flood = a.CreateLabel();
        a.Label(ref flood);
        a.@out(dx, al);
        a.dec(ecx);
        a.jnz(flood);

        // Give the PIT (count 0 = 65536, 55 ms a period) time for two periods: 150 ms of TSC at 1 GHz.
        a.rdtsc();
        a.shl(rdx, 32);
        a.or(rax, rdx);
        a.lea(r14, __[rax + 150_000_000]);
        var settle = a.CreateLabel();
        a.Label(ref settle);
        a.rdtsc();
        a.shl(rdx, 32);
        a.or(rax, rdx);
        a.cmp(rax, r14);
        a.jb(settle);

        // Has vector 0x51 (IRR 0x220, bit 17) or the stopped timer's 0x52 (bit 18) arrived?
        a.mov(eax, __dword_ptr[rbx + 0x220]);
        var routedOk = a.CreateLabel();
        a.test(eax, 1 << 17);
        a.jz(routedOk);
        a.or(r15d, 2);
        a.Label(ref routedOk);
        var stoppedOk = a.CreateLabel();
        a.test(eax, 1 << 18);
        a.jz(stoppedOk);
        a.or(r15d, 4);
        a.Label(ref stoppedOk);

        // Now let the timer expire into LVT vector 2 and wait for the receive error.
        a.mov(__dword_ptr[rbx + 0x320], 2);
        a.mov(__dword_ptr[rbx + 0x380], 1000);
        a.mov(ecx, 10_000_000);
        var wait = a.CreateLabel();
        var received = a.CreateLabel();
        a.Label(ref wait);
        a.mov(__dword_ptr[rbx + 0x280], 0);
        a.mov(eax, __dword_ptr[rbx + 0x280]);
        a.test(eax, 1 << 6);
        a.jnz(received);
        a.dec(ecx);
        a.jnz(wait);
        a.or(r15d, 8);
        a.Label(ref received);

        a.mov(eax, r15d);
        a.mov(dx, DebugExitDevice.DefaultPort);
        a.@out(dx, eax);
        a.hlt();
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
