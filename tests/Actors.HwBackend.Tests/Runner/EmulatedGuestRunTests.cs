using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Devices.Legacy;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Platform;
using Actors.HwBackend.Runner;
using Actors.HwBackend.Tests.Boot;
using Actors.HwBackend.Tests.Devices;
using Actors.HwBackend.Tests.Emulation;
using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Runner;

/// <summary>
/// Loader, software CPU, devices and runner together: tiny guests assembled here check the entry
/// state from the inside and report through the UART and isa-debug-exit. Each failed check exits
/// with its own status, (check &lt;&lt; 1) | 1, so a failure names the check.
/// </summary>
public sealed class EmulatedGuestRunTests
{
    private const ulong MemoryBytes = 64 << 20;
    private const uint LoadAddress = 0x100000;
    private static readonly GuestRunnerOptions Budget = new() { TimeBudget = TimeSpan.FromSeconds(30) };

    [Fact]
    public void MultibootGuestSeesTheSpecifiedEntryState()
    {
        var a = new Assembler(32);
        var fail = a.CreateLabel();
        a.mov(edi, 1);
        a.cmp(eax, 0x2BAD_B002);
        a.jne(fail);
        a.mov(edi, 2);
        a.mov(ecx, __dword_ptr[ebx]); // info flags: memory and memory map present
        a.and(ecx, 0x41);
        a.cmp(ecx, 0x41);
        a.jne(fail);
        a.mov(edi, 3);
        a.mov(ecx, cr0); // paging off
        a.test(ecx, unchecked((int)0x8000_0000));
        a.jnz(fail);
        a.mov(edi, 4);
        a.push(0x1234); // the loader's stack works
        a.pop(ecx);
        a.cmp(ecx, 0x1234);
        a.jne(fail);
        a.mov(edi, 5);
        a.mov(ax, ds); // data selector from the loader's GDT, reloadable
        a.cmp(ax, 0x18);
        a.jne(fail);
        a.mov(ds, ax);
        a.mov(__dword_ptr[0x200000], 0x5A5A_5A5A);
        PutString(a, "mb ok\n");
        Exit(a, 0);
        a.Label(ref fail);
        a.mov(eax, edi);
        a.mov(dx, DebugExitDevice.DefaultPort);
        a.@out(dx, eax);
        a.hlt();

        byte[] code = Assemble(a, LoadAddress + 32);
        var text = new byte[32 + code.Length];
        code.CopyTo(text, 32);
        var image = TestImages.AddressFieldsImage(text, LoadAddress, bssBytes: 0x1000, entryOffset: 32);

        var (result, output) = Run(image);

        Assert.Equal(GuestRunOutcome.DebugExit, result.Outcome);
        Assert.Equal(1, result.ExitStatus);
        Assert.Equal("mb ok\n", output);
        Assert.True(result.InstructionsRetired > 20);
    }

    [Fact]
    public void Elf64GuestRunsInLongModeOnTheIdentityMap()
    {
        var a = new Assembler(64);
        var fail = a.CreateLabel();
        a.mov(edi, 1);
        a.mov(rax, 0x0123_4567_89AB_CDEFL); // 64-bit registers work
        a.mov(rcx, rax);
        a.shr(rcx, 32);
        a.cmp(ecx, 0x0123_4567);
        a.jne(fail);
        a.mov(edi, 2);
        a.mov(rbx, 60L << 20); // RAM far above the image is mapped 1:1
        a.mov(__qword_ptr[rbx], rax);
        a.cmp(__qword_ptr[rbx], rax);
        a.jne(fail);
        a.mov(edi, 3);
        a.mov(rbx, 0xFEE0_0030L); // so is the local APIC window: no device yet, reads float high
        a.mov(eax, __dword_ptr[rbx]);
        a.cmp(eax, -1);
        a.jne(fail);
        a.mov(edi, 4);
        a.push(rax); // the loader's stack works
        a.pop(rcx);
        a.cmp(rcx, rax);
        a.jne(fail);
        a.mov(edi, 5);
        a.pxor(xmm0, xmm0); // SSE is enabled for compiled code
        PutString(a, "64 ok\n");
        Exit(a, 0x20);
        a.Label(ref fail);
        a.mov(eax, edi);
        a.mov(dx, DebugExitDevice.DefaultPort);
        a.@out(dx, eax);
        a.hlt();

        var image = TestImages.Elf64(LoadAddress, [new TestSegment(LoadAddress, Assemble(a, LoadAddress), 0x2000)]);

        var (result, output) = Run(image);

        Assert.Equal(GuestRunOutcome.DebugExit, result.Outcome);
        Assert.Equal(0x41, result.ExitStatus);
        Assert.Equal("64 ok\n", output);
        Assert.Equal(1, result.UnhandledMmioReads);
    }

    [Fact]
    public void HaltWithInterruptsOffStopsTheGuestForGood()
    {
        var a = new Assembler(64);
        a.cli();
        a.hlt();
        var image = TestImages.Elf64(LoadAddress, [new TestSegment(LoadAddress, Assemble(a, LoadAddress), 0x1000)]);

        var (result, _) = Run(image);

        Assert.Equal(GuestRunOutcome.Halted, result.Outcome);
    }

    [Fact]
    public void ExceptionBeforeTheGuestHasAnIdtIsATripleFault()
    {
        var a = new Assembler(32);
        a.ud2();
        byte[] code = Assemble(a, LoadAddress + 32);
        var text = new byte[32 + code.Length];
        code.CopyTo(text, 32);

        var (result, _) = Run(TestImages.AddressFieldsImage(text, LoadAddress, 0, entryOffset: 32));

        Assert.Equal(GuestRunOutcome.TripleFault, result.Outcome);
    }

    [Fact]
    public void SpinningGuestIsStoppedByItsBudget()
    {
        var a = new Assembler(64);
        var spin = a.CreateLabel();
        a.Label(ref spin);
        a.jmp(spin);
        var image = TestImages.Elf64(LoadAddress, [new TestSegment(LoadAddress, Assemble(a, LoadAddress), 0x1000)]);

        var (result, _) = Run(image, new GuestRunnerOptions { TimeBudget = TimeSpan.FromMilliseconds(200) });

        Assert.Equal(GuestRunOutcome.TimeBudgetExhausted, result.Outcome);
        Assert.True(result.InstructionsRetired > 0);
    }

    [Fact]
    public void ExceptionLoopIsStoppedByTheInstructionBudget()
    {
        // The #UD gate points at the ud2 that raised it, so every delivery faults again at once
        // and the guest retires nothing after its setup. The gate switches to an IST stack, which
        // starts at the same place every time: the loop never runs out of stack and never ends
        // by itself.
        const int Idt = 0x30_0000, Gdt = 0x30_2000, Tss = 0x30_3000, IstTop = 0x200_0000;
        const int Gate = ExceptionVector.UD * 16;
        var a = new Assembler(64);
        var fault = a.CreateLabel();
        a.mov(ebx, Idt);
        a.lea(rax, __[fault]);
        a.mov(__word_ptr[rbx + Gate], ax);
        a.mov(cx, cs);
        a.mov(__word_ptr[rbx + Gate + 2], cx);
        a.mov(__word_ptr[rbx + Gate + 4], 0x8E01); // present 64-bit interrupt gate, IST 1
        a.shr(rax, 16);
        a.mov(__word_ptr[rbx + Gate + 6], ax);
        a.shr(rax, 16);
        a.mov(__dword_ptr[rbx + Gate + 8], eax);
        a.mov(__dword_ptr[rbx + Gate + 12], 0);
        a.mov(__word_ptr[rbx + 0x1000], Gate + 15); // IDTR: limit, then base
        a.mov(__qword_ptr[rbx + 0x1002], rbx);
        a.lidt(__[rbx + 0x1000]);

        // A TSS for the IST: the loader's GDT copied, with a TSS descriptor appended.
        a.sgdt(__[rbx + 0x1010]);
        a.movzx(ecx, __word_ptr[rbx + 0x1010]);
        a.inc(ecx);
        a.mov(r9d, ecx); // the TSS selector: the old GDT's size
        a.mov(rsi, __qword_ptr[rbx + 0x1012]);
        a.mov(edi, Gdt);
        a.rep.movsb();
        a.mov(rax, 0x0000_8900_0000_0067L | ((long)(Tss & 0xFFFF) << 16) | ((long)((Tss >> 16) & 0xFF) << 32)); // available 64-bit TSS, limit 0x67
        a.mov(__qword_ptr[rdi], rax);
        a.mov(__qword_ptr[rdi + 8], 0);
        a.lea(eax, __[r9 + 15]);
        a.mov(__word_ptr[rbx + 0x1020], ax);
        a.mov(__qword_ptr[rbx + 0x1022], Gdt);
        a.lgdt(__[rbx + 0x1020]);
        a.mov(edx, Tss);
        a.mov(__qword_ptr[rdx + 0x24], IstTop); // IST1
        a.mov(eax, r9d);
        a.ltr(ax);
        a.Label(ref fault);
        a.ud2();
        var image = TestImages.Elf64(LoadAddress, [new TestSegment(LoadAddress, Assemble(a, LoadAddress), 0x1000)]);

        // The time budget is only a safety net, so a regression fails instead of hanging.
        var (result, _) = Run(image, new GuestRunnerOptions { InstructionBudget = 20_000, TimeBudget = TimeSpan.FromSeconds(60) });

        Assert.Equal(GuestRunOutcome.InstructionBudgetExhausted, result.Outcome);
        Assert.True(result.InstructionsRetired < 100, $"{result.InstructionsRetired} instructions retired");
        // The budget is checked by a timer while the guest never exits, so how far it overshoots
        // depends on how late a starved host runs that timer; what matters is that the budget, not
        // the time budget, ended the run.
        Assert.True(result.EventsDelivered >= 20_000UL - 100, $"{result.EventsDelivered} events delivered");
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(30), $"the budget stopped the loop only after {result.Elapsed}");
        Assert.Contains("exception loop", result.Message);
    }

    private static (GuestRunResult Result, string Output) Run(byte[] image, GuestRunnerOptions? options = null)
    {
        using var machine = TestMachines.Create(MemoryBytes);
        var loaded = GuestImageLoader.Load(image, machine.Memory);
        machine.Processors[0].SetState(loaded.InitialState);
        var sink = new RecordingSerialSink();
        var ports = new IoPortBus();
        var uart = new Uart16550(sink);
        ports.Register(Uart16550.Com1Port, Uart16550.PortCount, uart, "com1");
        var runner = new GuestRunner(machine, ports, options ?? Budget);
        ports.Register(DebugExitDevice.DefaultPort, DebugExitDevice.PortCount, new DebugExitDevice(runner.RequestGuestExit), "isa-debug-exit");
        var result = runner.Run();
        uart.Flush();
        return (result, System.Text.Encoding.ASCII.GetString(sink.Bytes));
    }

    /// <summary>Polls LSR.THRE before each byte, as KUT and Linux's early console do.</summary>
    private static void PutString(Assembler a, string text)
    {
        foreach (char c in text)
        {
            var wait = a.CreateLabel();
            a.mov(dx, Uart16550.Com1Port + 5);
            a.Label(ref wait);
            a.@in(al, dx);
            a.test(al, 0x20);
            a.jz(wait);
            a.mov(dx, Uart16550.Com1Port);
            a.mov(al, (byte)c);
            a.@out(dx, al);
        }
    }

    private static void Exit(Assembler a, int value)
    {
        a.mov(eax, value);
        a.mov(dx, DebugExitDevice.DefaultPort);
        a.@out(dx, eax);
        a.hlt();
    }

    private static byte[] Assemble(Assembler a, ulong address)
    {
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), address);
        return stream.ToArray();
    }
}
