using System.Buffers.Binary;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.Bench;

/// <summary>
/// The guests of the <c>hypercalls</c> benchmark, built with Iced. Each repeats one round trip to
/// the hypervisor a given number of times and then exits through isa-debug-exit with 0 (1 when an
/// answer was not the expected one). They are flat Multiboot v1 images with address fields: QEMU's
/// <c>-kernel</c> refuses ELF64 Multiboot kernels, and the port-I/O guest must be the very same
/// bytes on both sides. A 32-bit entry builds identity page tables for the first GiB and switches
/// to long mode, as the guests of guests/ do, so all three loops run in 64-bit code at CPL 0.
/// </summary>
internal static class HypercallBenchGuests
{
    /// <summary>The port of the exit loop: the POST code port, a device that does nothing on both sides.</summary>
    public const byte PostCodePort = 0x80;

    /// <summary>
    /// Above every channel's connection (0x10 + relid; the bus offers one channel), so a signal to it
    /// passes the dispatcher's checks and the bus's channel lookup and comes back INVALID_CONNECTION_ID.
    /// </summary>
    public const uint UnknownConnectionId = 0x7F;

    /// <summary>SINT 2, as Linux's hv_vmbus uses it, with Linux's vector and auto-EOI.</summary>
    public const int VmBusSint = 2;
    public const byte VmBusVector = 0xF3;

    private const uint LoadAddress = 0x10_0000;
    private const uint MultibootHeaderBytes = 32;
    private const uint Entry32 = LoadAddress + MultibootHeaderBytes;
    private const uint Entry64 = LoadAddress + 0x1000;

    // Everything the guests use lies in the first 4 MiB, above the image.
    private const uint Pml4 = 0x20_0000;
    private const uint Pdpt = Pml4 + 0x1000;
    private const uint PageDirectory = Pml4 + 0x2000;
    private const uint StackTop = 0x21_0000; // the stack grows down from here, below the hypercall page
    private const uint HypercallPage = 0x21_0000;
    private const uint MessagePage = 0x21_1000;
    private const uint InputPage = 0x21_2000;
    private const uint IdtBase = 0x21_3000;
    private const uint InterruptCount = 0x21_4000;
    private const uint Gdt = 0x21_5000;
    private const uint Gdtr = Gdt + 0x100;
    private const uint VmBusSlot = MessagePage + (VmBusSint * 256);

    private const ushort CodeSelector = 0x08;
    private const ushort DataSelector = 0x10;
    private const ushort DebugExitPort = 0xF4;

    // The guest's own copy of the TLFS and Linux values, as an independent guest has: taking them
    // from the implementation would let a wrong constant there pass unnoticed.
    private const uint GuestOsIdMsr = 0x4000_0000;
    private const uint HypercallMsr = 0x4000_0001;
    private const uint SControlMsr = 0x4000_0080;
    private const uint SimpMsr = 0x4000_0083;
    private const uint EomMsr = 0x4000_0084;
    private const uint Sint0Msr = 0x4000_0090;

    private const uint PostMessageCall = 0x5C;
    private const uint SignalEventCall = 0x5D;
    private const uint FastCall = 1 << 16;
    private const ushort InvalidConnectionId = 0x12;

    private const uint VmBusMessageType = 1;
    private const uint InitiateContact = 14;
    private const uint VersionResponse = 15;
    private const uint InitiateContactBytes = 40;
    private const uint VmBusVersion50 = 0x0005_0000;
    private const uint ContactConnectionId = 4;

    /// <summary><c>out 0x80, al</c> <paramref name="iterations"/> times.</summary>
    public static byte[] PortIo(uint iterations) => Build(enableLocalApic: false, a =>
    {
        var loop = a.CreateLabel();
        a.mov(ebx, iterations);
        a.Label(ref loop);
        a.@out(PostCodePort, al);
        a.dec(ebx);
        a.jnz(loop);
        Exit(a, 0);
    });

    /// <summary>
    /// Enables the hypercall page, then makes a fast HvSignalEvent to <see cref="UnknownConnectionId"/>
    /// through it <paramref name="iterations"/> times, as Linux's <c>hv_do_fast_hypercall8</c> does
    /// (a call into the page), checking each answer is INVALID_CONNECTION_ID.
    /// </summary>
    public static byte[] SignalEvent(uint iterations) => Build(enableLocalApic: false, a =>
    {
        var loop = a.CreateLabel();
        var fail = a.CreateLabel();
        EnableHypercallPage(a);
        a.mov(ebx, iterations);
        a.Label(ref loop);
        a.mov(ecx, SignalEventCall | FastCall);
        a.mov(edx, UnknownConnectionId);
        a.xor(r8d, r8d);
        a.call(HypercallPage);
        a.cmp(rax, InvalidConnectionId);
        a.jne(fail);
        a.dec(ebx);
        a.jnz(loop);
        Exit(a, 0);
        a.Label(ref fail);
        Exit(a, 1);
    });

    /// <summary>
    /// Enables the hypercall page and the SynIC (message page, SINT 2 unmasked with vector 0xF3 and
    /// auto-EOI), then <paramref name="iterations"/> times: HvPostMessage of VMBus INITIATE_CONTACT
    /// (version 5.0, VP 0, SINT 2) to connection 4; wait, interrupts on, for SINT 2's interrupt,
    /// whose handler only counts it; check slot 2 holds VERSION_RESPONSE accepting the version;
    /// clear the slot's message type; and write EOM if the slot says another message is pending.
    /// That is how Linux's hv_vmbus consumes a message (vmbus_signal_eom), and what the TLFS asks.
    /// </summary>
    public static byte[] VmBusMessage(uint iterations) => Build(enableLocalApic: true, a =>
    {
        var loop = a.CreateLabel();
        var wait = a.CreateLabel();
        var answered = a.CreateLabel();
        var noEom = a.CreateLabel();
        var fail = a.CreateLabel();
        var handler = a.CreateLabel();
        var idtr = a.CreateLabel();

        EnableHypercallPage(a);
        WriteMsr(a, SimpMsr, MessagePage | 1);
        WriteMsr(a, Sint0Msr + VmBusSint, VmBusVector | (1u << 17)); // unmasked, auto-EOI
        WriteMsr(a, SControlMsr, 1);
        SetInterruptGate(a, VmBusVector, handler);
        a.lidt(__[idtr]);

        // HvPostMessage's input block: connection, reserved, message type, payload size, then the
        // payload, INITIATE_CONTACT: message type, padding, version, target VP, SINT, monitor pages.
        a.mov(edi, InputPage);
        a.xor(eax, eax);
        a.mov(ecx, 256 / 4);
        a.rep.stosd();
        a.mov(__dword_ptr[InputPage], ContactConnectionId);
        a.mov(__dword_ptr[InputPage + 8], VmBusMessageType);
        a.mov(__dword_ptr[InputPage + 12], InitiateContactBytes);
        a.mov(__dword_ptr[InputPage + 16], InitiateContact);
        a.mov(__dword_ptr[InputPage + 24], VmBusVersion50);
        a.mov(__dword_ptr[InputPage + 28], 0);
        a.mov(__byte_ptr[InputPage + 32], VmBusSint);

        a.mov(__qword_ptr[InterruptCount], 0);
        a.xor(r12d, r12d);
        a.mov(ebx, iterations);
        a.sti();
        a.Label(ref loop);
        a.mov(ecx, PostMessageCall);
        a.mov(edx, InputPage);
        a.xor(r8d, r8d);
        a.call(HypercallPage);
        a.test(rax, rax);
        a.jnz(fail);
        a.inc(r12);
        a.Label(ref wait);
        a.cmp(__qword_ptr[InterruptCount], r12);
        a.jae(answered);
        a.pause();
        a.jmp(wait);
        a.Label(ref answered);
        a.cmp(__dword_ptr[VmBusSlot], VmBusMessageType);
        a.jne(fail);
        a.cmp(__dword_ptr[VmBusSlot + 16], VersionResponse);
        a.jne(fail);
        a.cmp(__byte_ptr[VmBusSlot + 24], 1); // version_supported
        a.jne(fail);
        a.mov(__dword_ptr[VmBusSlot], 0);
        a.mfence();
        a.test(__byte_ptr[VmBusSlot + 5], 1); // MessagePending
        a.jz(noEom);
        WriteMsr(a, EomMsr, 0);
        a.Label(ref noEom);
        a.dec(ebx);
        a.jnz(loop);
        Exit(a, 0);
        a.Label(ref fail);
        Exit(a, 1);

        a.Label(ref handler);
        a.inc(__qword_ptr[InterruptCount]);
        a.iretq();

        a.Label(ref idtr);
        a.dw(256 * 16 - 1);
        a.dq(IdtBase);
    });

    /// <summary>GUEST_OS_ID first (the TLFS enables the page only for an identified guest), then the page.</summary>
    private static void EnableHypercallPage(Assembler a)
    {
        // An open-source guest's id in Linux's form (bit 63, vendor 0x100); any non-zero value would do.
        a.mov(ecx, GuestOsIdMsr);
        a.xor(eax, eax);
        a.mov(edx, 0x8100_0000);
        a.wrmsr();
        WriteMsr(a, HypercallMsr, HypercallPage | 1);
    }

    private static void WriteMsr(Assembler a, uint msr, uint value)
    {
        a.mov(ecx, msr);
        a.mov(eax, value);
        a.xor(edx, edx);
        a.wrmsr();
    }

    private static void SetInterruptGate(Assembler a, byte vector, Label handler)
    {
        uint gate = IdtBase + (vector * 16u);
        a.lea(rax, __[handler]);
        a.mov(__word_ptr[gate], ax);
        a.mov(__word_ptr[gate + 2], CodeSelector);
        a.mov(__word_ptr[gate + 4], 0x8E00); // present, DPL 0, 64-bit interrupt gate
        a.shr(rax, 16);
        a.mov(__word_ptr[gate + 6], ax);
        a.shr(rax, 16);
        a.mov(__dword_ptr[gate + 8], eax);
        a.mov(__dword_ptr[gate + 12], 0);
    }

    private static void Exit(Assembler a, uint value)
    {
        var halt = a.CreateLabel();
        a.mov(dx, DebugExitPort);
        a.mov(eax, value);
        a.@out(dx, eax);
        a.Label(ref halt);
        a.hlt();
        a.jmp(halt);
    }

    /// <summary>The Multiboot header, the 32-bit switch to long mode, then <paramref name="body"/> at <see cref="Entry64"/>.</summary>
    private static byte[] Build(bool enableLocalApic, Action<Assembler> body)
    {
        byte[] code32 = Assemble(32, Entry32, a => SwitchToLongMode(a, enableLocalApic));
        byte[] code64 = Assemble(64, Entry64, a =>
        {
            a.mov(ax, DataSelector);
            a.mov(ds, ax);
            a.mov(es, ax);
            a.mov(ss, ax);
            a.mov(esp, StackTop);
            body(a);
        });
        if (Entry32 + code32.Length > Entry64)
            throw new InvalidOperationException("the 32-bit entry overruns the 64-bit code");

        var image = new byte[Entry64 - LoadAddress + code64.Length];
        var header = image.AsSpan();
        const uint Magic = 0x1BAD_B002, AddressFields = 1 << 16;
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], AddressFields);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], unchecked(0u - Magic - AddressFields));
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], LoadAddress); // header_addr
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], LoadAddress); // load_addr
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], LoadAddress + (uint)image.Length); // load_end_addr
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], 0); // no bss
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], Entry32);
        code32.CopyTo(image, MultibootHeaderBytes);
        code64.CopyTo(image, Entry64 - LoadAddress);
        return image;
    }

    /// <summary>
    /// From the Multiboot state (protected mode, paging off): identity-map the first GiB with 2 MiB
    /// pages, turn on PAE, EFER.LME and paging, load a GDT with a 64-bit code segment and jump to it.
    /// The local APIC is enabled here, where its page needs no mapping.
    /// </summary>
    private static void SwitchToLongMode(Assembler a, bool enableLocalApic)
    {
        var fill = a.CreateLabel();
        a.cli();
        a.mov(esp, StackTop);
        if (enableLocalApic)
            a.mov(__dword_ptr[0xFEE0_00F0], 0x1FF); // spurious vector register: APIC software-enabled
        a.cld();
        a.mov(edi, Pml4);
        a.xor(eax, eax);
        a.mov(ecx, 3 * 4096 / 4);
        a.rep.stosd();
        a.mov(__dword_ptr[Pml4], Pdpt | 3);
        a.mov(__dword_ptr[Pdpt], PageDirectory | 3);
        a.mov(edi, PageDirectory);
        a.mov(eax, 0x83); // present, writable, 2 MiB
        a.mov(ecx, 512);
        a.Label(ref fill);
        a.mov(__dword_ptr[edi], eax);
        a.add(eax, 0x20_0000);
        a.add(edi, 8);
        a.dec(ecx);
        a.jnz(fill);
        a.mov(eax, Pml4);
        a.mov(cr3, eax);
        a.mov(eax, cr4);
        a.or(eax, 1 << 5); // PAE
        a.mov(cr4, eax);
        a.mov(ecx, 0xC000_0080); // EFER
        a.rdmsr();
        a.or(eax, 1 << 8); // LME
        a.wrmsr();
        a.mov(eax, cr0);
        a.or(eax, unchecked((int)0x8000_0001)); // PG, PE
        a.mov(cr0, eax);
        // The GDT goes in memory by stores: Iced has no data directive that takes a label's address.
        a.mov(__dword_ptr[Gdt], 0);
        a.mov(__dword_ptr[Gdt + 4], 0);
        a.mov(__dword_ptr[Gdt + CodeSelector], 0x0000_FFFF);
        a.mov(__dword_ptr[Gdt + CodeSelector + 4], 0x00AF_9A00); // 64-bit code
        a.mov(__dword_ptr[Gdt + DataSelector], 0x0000_FFFF);
        a.mov(__dword_ptr[Gdt + DataSelector + 4], 0x00CF_9200); // data
        a.mov(__word_ptr[Gdtr], 3 * 8 - 1);
        a.mov(__dword_ptr[Gdtr + 2], Gdt);
        a.lgdt(__[Gdtr]);
        a.jmp(CodeSelector, Entry64);
    }

    private static byte[] Assemble(int bitness, ulong address, Action<Assembler> emit)
    {
        var assembler = new Assembler(bitness);
        emit(assembler);
        var code = new List<byte>();
        assembler.Assemble(new ListWriter(code), address);
        return [.. code];
    }

    private sealed class ListWriter(List<byte> bytes) : CodeWriter
    {
        public override void WriteByte(byte value) => bytes.Add(value);
    }
}
