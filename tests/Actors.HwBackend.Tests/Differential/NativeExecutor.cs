using System.Runtime.InteropServices;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// Runs one instruction on the host CPU. A thunk loads every GPR, the status flags, MXCSR and
/// XMM0-15 from a block at a fixed address, executes the instruction bytes placed in a slot,
/// stores the same registers back and returns to managed code with the host's state restored.
/// The host mappings live at fixed addresses, so there is exactly one instance per process and
/// callers serialise on <see cref="Gate"/>.
/// </summary>
internal sealed unsafe class NativeExecutor
{
    /// <summary>Room for the code under test (one instruction, or a short branch over one more); NOPs fill the rest.</summary>
    public const int SlotSize = 32;

    // Offsets inside the context block at DiffLayout.NativeContext.
    private const int InGprs = 0x000;
    private const int InRflags = 0x080;
    private const int InMxcsr = 0x088;
    private const int HostRsp = 0x090;
    private const int HostMxcsr = 0x098;
    private const int InXmm = 0x100;
    private const int OutGprs = 0x200;
    private const int OutRflags = 0x280;
    private const int OutMxcsr = 0x288;
    private const int OutXmm = 0x300;

    /// <summary>The flags a test may set: OF DF SF ZF AF PF CF. TF/IF/AC/NT stay under the host's control.</summary>
    public const ulong LoadableFlags = 0xCD5;

    private static readonly Lazy<NativeExecutor> LazyInstance = new(() => new NativeExecutor(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly byte* _context;
    private readonly byte* _thunk;
    private readonly byte* _slot;
    private readonly byte* _data;

    public static NativeExecutor Instance => LazyInstance.Value;

    public static object Gate { get; } = new();

    private NativeExecutor()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            throw new PlatformNotSupportedException("the native executor needs Linux on x86-64");

        _context = LibC.MapFixedAt(DiffLayout.NativeContext, 0x1000, LibC.ProtRead | LibC.ProtWrite);
        byte* region = LibC.MapFixedAt(DiffLayout.HostRegion, DiffLayout.GuardBytes + DiffLayout.DataSize, LibC.ProtRead | LibC.ProtWrite);
        _data = region + DiffLayout.GuardBytes;

        // Prologue at the page start jumps to the slot at CodeAddress; the epilogue follows the slot.
        var (prologue, epilogue) = AssembleThunk();
        _thunk = LibC.MapFixedAt(DiffLayout.NativeThunk, 0x1000, LibC.ProtRead | LibC.ProtWrite | LibC.ProtExec);
        _slot = (byte*)DiffLayout.CodeAddress;
        if (prologue.Length > (int)(DiffLayout.CodeAddress - DiffLayout.NativeThunk) || DiffLayout.CodeAddress - DiffLayout.NativeThunk + SlotSize + (ulong)epilogue.Length > 0x1000)
            throw new InvalidOperationException("thunk does not fit its page");
        new ReadOnlySpan<byte>(prologue).CopyTo(new Span<byte>(_thunk, prologue.Length));
        new Span<byte>(_slot, SlotSize).Fill(0x90);
        new ReadOnlySpan<byte>(epilogue).CopyTo(new Span<byte>(_slot + SlotSize, epilogue.Length));
    }

    /// <summary>The host copy of the data window (valid only under <see cref="Gate"/>).</summary>
    public Span<byte> Data => new(_data, DiffLayout.DataSize);

    /// <summary>
    /// Executes <paramref name="code"/>, placed at <see cref="DiffLayout.CodeAddress"/> and followed by
    /// NOPs (any branch in it must land in the slot), with the given registers and data window;
    /// writes the resulting registers and window.
    /// </summary>
    public void Run(ReadOnlySpan<byte> code, RegisterState input, ReadOnlySpan<byte> dataIn, RegisterState output, Span<byte> dataOut)
    {
        if (code.Length >= SlotSize)
            throw new ArgumentException($"test code must be shorter than {SlotSize} bytes", nameof(code));
        if (input.FsBase != 0 && input.FsBase != CurrentFsBase())
            throw new InvalidOperationException("the case was generated for another thread's FS base");
        lock (Gate)
        {
            var slot = new Span<byte>(_slot, SlotSize);
            slot.Fill(0x90);
            code.CopyTo(slot);

            var gprs = new Span<ulong>(_context + InGprs, 16);
            input.Gprs.CopyTo(gprs);
            *(ulong*)(_context + InRflags) = (input.Rflags & LoadableFlags) | 0x2;
            *(uint*)(_context + InMxcsr) = input.Mxcsr;
            input.Xmm.CopyTo(new Span<byte>(_context + InXmm, RegisterState.XmmCount * 16));
            dataIn.CopyTo(Data);

            // While the test runs, RSP points into the data window; a signal delivered then would
            // have its frame written below RSP, possibly over compared bytes. Block them all for
            // the few instructions it takes (synchronous faults still kill the process, as they must).
            byte* all = stackalloc byte[LibC.SigSetBytes];
            byte* saved = stackalloc byte[LibC.SigSetBytes];
            new Span<byte>(all, LibC.SigSetBytes).Fill(0xFF);
            LibC.PthreadSigmask(LibC.SigBlock, all, saved);
            try
            {
                ((delegate* unmanaged<void>)_thunk)();
            }
            finally
            {
                LibC.PthreadSigmask(LibC.SigSetMask, saved, null);
            }

            new Span<ulong>(_context + OutGprs, 16).CopyTo(output.Gprs);
            output.Rflags = *(ulong*)(_context + OutRflags);
            output.Mxcsr = *(uint*)(_context + OutMxcsr);
            new Span<byte>(_context + OutXmm, RegisterState.XmmCount * 16).CopyTo(output.Xmm);
            Data.CopyTo(dataOut);
        }
    }

    /// <summary>This thread's FS base (its TLS block), which FS-prefixed host accesses add.</summary>
    public static ulong CurrentFsBase()
    {
        ulong fs;
        if (LibC.ArchPrctl(LibC.ArchGetFs, &fs) != 0)
            throw new InvalidOperationException($"arch_prctl(ARCH_GET_FS) failed: errno {Marshal.GetLastPInvokeError()}");
        return fs;
    }

    private static (byte[] Prologue, byte[] Epilogue) AssembleThunk()
    {
        long ctx = (long)DiffLayout.NativeContext;
        AssemblerRegister64[] gpr = [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
        AssemblerRegisterXMM[] xmm = [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14, xmm15];

        var p = new Assembler(64);
        // SysV callee-saved registers; MXCSR control bits are callee-saved too.
        p.push(rbx);
        p.push(rbp);
        p.push(r12);
        p.push(r13);
        p.push(r14);
        p.push(r15);
        // Avoids AVX-SSE transition stalls from dirty upper halves left by the runtime.
        p.vzeroupper();
        p.mov(__qword_ptr[ctx + HostRsp], rsp);
        p.stmxcsr(__dword_ptr[ctx + HostMxcsr]);
        p.ldmxcsr(__dword_ptr[ctx + InMxcsr]);
        for (int i = 0; i < 16; i++)
            p.movdqu(xmm[i], __xmmword_ptr[ctx + InXmm + i * 16]);
        // Flags are loaded while RSP is still the host stack; nothing after this touches flags.
        p.push(__qword_ptr[ctx + InRflags]);
        p.popfq();
        for (int i = 1; i < 16; i++)
        {
            if (i != 4)
                p.mov(gpr[i], __qword_ptr[ctx + InGprs + i * 8]);
        }
        p.mov(rsp, __qword_ptr[ctx + InGprs + 4 * 8]);
        p.mov(rax, __qword_ptr[ctx + InGprs]);
        p.jmp(DiffLayout.CodeAddress);

        var e = new Assembler(64);
        // Absolute addressing: every register holds a test value here, none can serve as a base.
        for (int i = 0; i < 16; i++)
            e.mov(__qword_ptr[ctx + OutGprs + i * 8], gpr[i]);
        e.mov(rsp, __qword_ptr[ctx + HostRsp]);
        e.pushfq();
        e.pop(__qword_ptr[ctx + OutRflags]);
        // The ABI requires DF clear on return; a test may have set it.
        e.cld();
        for (int i = 0; i < 16; i++)
            e.movdqu(__xmmword_ptr[ctx + OutXmm + i * 16], xmm[i]);
        e.stmxcsr(__dword_ptr[ctx + OutMxcsr]);
        e.ldmxcsr(__dword_ptr[ctx + HostMxcsr]);
        e.pop(r15);
        e.pop(r14);
        e.pop(r13);
        e.pop(r12);
        e.pop(rbp);
        e.pop(rbx);
        e.ret();

        return (Assemble(p, DiffLayout.NativeThunk), Assemble(e, DiffLayout.CodeAddress + SlotSize));
    }

    private static byte[] Assemble(Assembler a, ulong rip)
    {
        var w = new ByteCodeWriter();
        a.Assemble(w, rip);
        return w.ToArray();
    }
}
