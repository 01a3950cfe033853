using System.Buffers.Binary;
using System.Diagnostics;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Tests.Emulation;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// Runs one instruction on the software CPU: a machine with 4-level page tables that map the
/// test code and the data window at the host's virtual addresses, in 64-bit mode at CPL 0.
/// One machine per instance; each run rewrites only the code bytes and the data window.
/// </summary>
internal sealed class EmulatorExecutor : IDisposable
{
    private const ulong Present = 1, Writable = 2;
    private const int ExceptionVectors = 32;
    private const byte ExceptionPort = 0xE9;

    /// <summary>A run that takes this long is a hang (a REP that never ends, a branch loop).</summary>
    private static readonly long HangTicks = Stopwatch.Frequency * 5;

    private readonly IVirtualMachine _machine;
    private readonly IVirtualProcessor _vp;
    private readonly VpState _template;
    private readonly Timer _watchdog;
    private readonly byte[] _codeBuffer = new byte[NativeExecutor.SlotSize + 16];
    private long _runStart;

    /// <summary>Blocks this machine's translating tier has compiled so far.</summary>
    public long RegionsTranslated => (_machine as EmulatedMachine)?.TierStatistics?.RegionsTranslated ?? 0;

    public EmulatorExecutor(CpuTierOptions? tier = null)
    {
        _machine = TestMachines.Create(DiffLayout.GuestMemoryBytes, tier: tier);
        _vp = _machine.Processors[0];
        BuildPageTables();
        BuildGdt();
        BuildIdt();
        _template = BuildTemplate();
        _watchdog = new Timer(_ => CheckHang(), null, 1000, 1000);
    }

    private void BuildPageTables()
    {
        var mem = _machine.Memory;
        mem.WriteValue(DiffLayout.GuestPml4, DiffLayout.GuestPdpt | Present | Writable);
        mem.WriteValue(DiffLayout.GuestPdpt, DiffLayout.GuestPd | Present | Writable);
        mem.WriteValue(DiffLayout.GuestPd, DiffLayout.GuestPtLow | Present | Writable);
        // The first 2 MiB identity-mapped: page tables, GDT, IDT and exception stubs.
        for (ulong i = 0; i < 512; i++)
            mem.WriteValue(DiffLayout.GuestPtLow + i * 8, (i << 12) | Present | Writable);

        // The code page at the host thunk's address, and the page after it for code that straddles.
        MapPage(DiffLayout.NativeThunk, DiffLayout.GuestPtCode, DiffLayout.GuestCodePhysical);
        MapPage(DiffLayout.NativeThunk + 0x1000, DiffLayout.GuestPtCode, DiffLayout.GuestCodePhysical + 0x1000);

        // The data window at the same virtual address as on the host.
        for (ulong page = 0; page < DiffLayout.DataSize / 4096; page++)
            MapPage(DiffLayout.DataBase + page * 4096, DiffLayout.GuestPtData, DiffLayout.GuestDataPhysical + page * 4096);
    }

    /// <summary>Maps one 4 KiB page through the page table at <paramref name="pt"/> (one per 2 MiB region).</summary>
    private void MapPage(ulong va, ulong pt, ulong gpa)
    {
        var mem = _machine.Memory;
        if ((va >> 30) != 0)
            throw new InvalidOperationException("test mappings must lie in the first GiB (one PDPT entry)");
        ulong pdIndex = (va >> 21) & 511;
        if (pdIndex == 0)
            throw new InvalidOperationException("test mappings must not share the identity-mapped first 2 MiB");
        mem.WriteValue(DiffLayout.GuestPd + pdIndex * 8, pt | Present | Writable);
        mem.WriteValue(pt + ((va >> 12) & 511) * 8, gpa | Present | Writable);
    }

    /// <summary>
    /// IDT entries 0-31 lead to stubs <c>mov al, vector; out 0xE9, al</c>, so a guest exception ends
    /// the run with a port exit that names the vector instead of an anonymous triple fault.
    /// </summary>
    private void BuildIdt()
    {
        var mem = _machine.Memory;
        for (int v = 0; v < ExceptionVectors; v++)
        {
            ulong stub = DiffLayout.GuestExceptionStubs + (ulong)v * 16;
            mem.Write(stub, [0xB0, (byte)v, 0xE6, ExceptionPort, 0xF4]);
            ulong low = (stub & 0xFFFF) | (0x8UL << 16) | (0x8EUL << 40) | ((stub >> 16 & 0xFFFF) << 48);
            mem.WriteValue(DiffLayout.GuestIdt + (ulong)v * 16, low);
            mem.WriteValue(DiffLayout.GuestIdt + (ulong)v * 16 + 8, stub >> 32);
        }
    }

    private void BuildGdt()
    {
        var mem = _machine.Memory;
        mem.WriteValue(DiffLayout.GuestGdt + 0x00, 0UL);
        mem.WriteValue(DiffLayout.GuestGdt + 0x08, 0x00AF_9B00_0000_FFFFUL); // 64-bit code, DPL 0
        mem.WriteValue(DiffLayout.GuestGdt + 0x10, 0x00CF_9300_0000_FFFFUL); // flat data
    }

    private static VpState BuildTemplate()
    {
        var data = SegmentRegister.Long64(0x10, false);
        return new VpState
        {
            Cr0 = 0x8000_0033, // PG NE ET MP PE
            Cr3 = DiffLayout.GuestPml4,
            Cr4 = 0x620, // OSXMMEXCPT OSFXSR PAE
            Efer = 0xD01, // NXE LMA LME SCE
            Cs = SegmentRegister.Long64(0x8, true),
            Ss = data,
            Ds = data,
            Es = data,
            Fs = data,
            Gs = data,
            Tr = new SegmentRegister(0x18, 0x7000, 0x67, 0xB, true, 0, false, false, false, false, false, false),
            Ldtr = SegmentRegister.Null,
            Gdtr = new DescriptorTableRegister(DiffLayout.GuestGdt, 0x17),
            Idtr = new DescriptorTableRegister(DiffLayout.GuestIdt, ExceptionVectors * 16 - 1),
            Rip = DiffLayout.CodeAddress, // replaced per run
        };
    }

    /// <summary>
    /// Runs <paramref name="code"/> at <paramref name="codeAddress"/>: <see cref="DiffLayout.CodeAddress"/>
    /// (where the host runs it) or, for code whose meaning does not depend on RIP, anywhere in the two
    /// mapped code pages, e.g. across their boundary.
    /// </summary>
    public EmulatorOutcome Run(ReadOnlySpan<byte> code, RegisterState input, ReadOnlySpan<byte> dataIn, RegisterState output, Span<byte> dataOut,
        ulong codeAddress = DiffLayout.CodeAddress)
    {
        if (codeAddress < DiffLayout.NativeThunk || codeAddress + (ulong)_codeBuffer.Length > DiffLayout.NativeThunk + 0x2000)
            throw new ArgumentOutOfRangeException(nameof(codeAddress));
        var mem = _machine.Memory;
        // The instruction, then HLT; the tail is filled with HLT too so a decoder that reads
        // ahead never sees a previous test's bytes.
        _codeBuffer.AsSpan().Fill(0xF4);
        code.CopyTo(_codeBuffer);
        mem.Write(DiffLayout.GuestCodePhysical + (codeAddress - DiffLayout.NativeThunk), _codeBuffer);
        mem.Write(DiffLayout.GuestDataPhysical, dataIn);

        var s = _template.Clone();
        s.Rip = codeAddress;
        input.Gprs.CopyTo(s.Gprs, 0);
        s.Rflags = (input.Rflags & NativeExecutor.LoadableFlags) | 0x2;
        s.Fs = s.Fs with { Base = input.FsBase };
        BinaryPrimitives.WriteUInt32LittleEndian(s.FxsaveArea.AsSpan(24), input.Mxcsr);
        input.Xmm.CopyTo(s.FxsaveArea, 160);
        _vp.SetState(s);

        Volatile.Write(ref _runStart, Stopwatch.GetTimestamp());
        VpExit exit;
        try
        {
            exit = _vp.Run();
        }
        finally
        {
            Volatile.Write(ref _runStart, 0);
        }

        var after = _vp.GetState();
        after.Gprs.AsSpan().CopyTo(output.Gprs);
        output.Rflags = after.Rflags;
        output.Mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(after.FxsaveArea.AsSpan(24));
        after.FxsaveArea.AsSpan(160, RegisterState.XmmCount * 16).CopyTo(output.Xmm);
        mem.Read(DiffLayout.GuestDataPhysical, dataOut);
        if (exit.Reason == VpExitReason.PortOut && exit.Port == ExceptionPort)
            return DescribeException(after, (int)(exit.Data & 0xFF), dataOut);
        return new EmulatorOutcome(exit.Reason, after.Rip, exit.Message);
    }

    private static EmulatorOutcome DescribeException(VpState after, int vector, ReadOnlySpan<byte> data)
    {
        // The CPU pushed [error code,] RIP, CS, RFLAGS, RSP, SS on the test stack inside the window.
        bool hasError = vector is 8 or 10 or 11 or 12 or 13 or 14 or 17 or 21 or 29 or 30;
        ulong rsp = after.Gprs[4];
        ulong error = 0, rip = 0;
        if (rsp >= DiffLayout.DataBase && rsp + 16 <= DiffLayout.DataEnd)
        {
            int off = (int)(rsp - DiffLayout.DataBase);
            if (hasError)
            {
                error = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(off));
                off += 8;
            }
            rip = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(off));
        }
        return new EmulatorOutcome(VpExitReason.PortOut, after.Rip, vector == 14 ? $"cr2 0x{after.Cr2:x}" : null, vector, error, rip);
    }

    private void CheckHang()
    {
        long start = Volatile.Read(ref _runStart);
        if (start != 0 && Stopwatch.GetTimestamp() - start > HangTicks)
            _vp.RequestStop();
    }

    public void Dispose()
    {
        _watchdog.Dispose();
        _machine.Dispose();
    }
}
