using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Platform;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.KvmConformance;

/// <summary>
/// The backend contract exit by exit, on a bare machine (RAM, one vCPU, no devices) running code assembled
/// here: state that round-trips, each exit kind with its data, string I/O item by item, completions, the dirty
/// log, and the hostile guests (a flood of port writes, a triple fault; writes outside RAM are the MMIO exits). Run once per
/// backend, so that a difference between KVM and the software CPU shows as one check failing on one of them.
/// </summary>
internal sealed class ContractChecks(IHypervisorBackend backend)
{
    private const ulong MemoryBytes = 4UL << 20;
    private const ulong Code = 0x1000;
    // An MMIO window the machine declares: accesses exit on both backends. (Where no window is, the software CPU
    // reads all-ones and drops writes itself while KVM exits; the platform answers such exits the same way.)
    private const ulong Window = 0xF000_0000;

    public IEnumerable<(string Name, Func<string?> Check)> All()
    {
        string prefix = backend.Name;
        yield return ($"{prefix}/state-round-trip", StateRoundTrip);
        yield return ($"{prefix}/port-out-flood", PortOutFlood);
        yield return ($"{prefix}/string-io", StringIo);
        yield return ($"{prefix}/mmio-window", MmioExits);
        yield return ($"{prefix}/dirty-log", DirtyLog);
        yield return ($"{prefix}/triple-fault", TripleFault);
    }

    /// <summary>Set a state with a value in every field the contract carries, read it back, and compare.</summary>
    private string? StateRoundTrip()
    {
        using IVirtualMachine machine = CreateMachine();
        IVirtualProcessor cpu = machine.Processors[0];
        VpState state = FlatState();
        for (int i = 0; i < 16; i++)
            state.Gprs[i] = 0x1111_0000_0000_0000UL * (ulong)(i + 1) + (ulong)i;
        state.Rflags = 0x202 | 0x1 | 0x40; // IF, CF, ZF
        state.Cr2 = 0xDEAD_B000;
        state.Star = 0x0023_0010_0000_0000;
        state.Lstar = 0xFFFF_8000_1234_5000;
        state.Sfmask = 0x4700;
        state.KernelGsBase = 0xFFFF_8880_0000_1000;
        state.SysenterCs = 0x10;
        state.SysenterEsp = 0x8000;
        state.SysenterEip = 0x9000;
        state.TscAux = 3;
        state.DebugRegisters = [0x1000, 0x2000, 0x3000, 0x4000, 0xFFFF0FF0, 0x400];
        state.FxsaveArea[160] = 0xAB; // XMM0's low byte
        state.FxsaveArea[32] = 0xCD; // ST0's low byte
        cpu.SetState(state);
        VpState back = cpu.GetState();

        var differences = new List<string>();
        void Same<T>(string what, T expected, T actual)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
                differences.Add($"{what}: set {expected}, read {actual}");
        }

        for (int i = 0; i < 16; i++)
            Same($"GPR {i}", state.Gprs[i], back.Gprs[i]);
        Same("RIP", state.Rip, back.Rip);
        Same("RFLAGS", state.Rflags, back.Rflags);
        Same("CS", state.Cs with { Type = (byte)(state.Cs.Type | 1) }, back.Cs with { Type = (byte)(back.Cs.Type | 1) });
        Same("SS base/limit", (state.Ss.Base, state.Ss.Limit, state.Ss.Selector), (back.Ss.Base, back.Ss.Limit, back.Ss.Selector));
        Same("GDTR", state.Gdtr, back.Gdtr);
        Same("IDTR", state.Idtr, back.Idtr);
        Same("CR0", state.Cr0, back.Cr0);
        Same("CR2", state.Cr2, back.Cr2);
        Same("CR3", state.Cr3, back.Cr3);
        Same("CR4", state.Cr4, back.Cr4);
        Same("EFER", state.Efer, back.Efer);
        Same("STAR", state.Star, back.Star);
        Same("LSTAR", state.Lstar, back.Lstar);
        Same("SFMASK", state.Sfmask, back.Sfmask);
        Same("KERNEL_GS_BASE", state.KernelGsBase, back.KernelGsBase);
        Same("SYSENTER_CS", state.SysenterCs, back.SysenterCs);
        Same("SYSENTER_ESP", state.SysenterEsp, back.SysenterEsp);
        Same("SYSENTER_EIP", state.SysenterEip, back.SysenterEip);
        Same("TSC_AUX", state.TscAux, back.TscAux);
        for (int i = 0; i < 4; i++)
            Same($"DR{i}", state.DebugRegisters[i], back.DebugRegisters[i]);
        Same("XMM0", state.FxsaveArea[160], back.FxsaveArea[160]);
        Same("ST0", state.FxsaveArea[32], back.FxsaveArea[32]);
        Same("MXCSR", BitConverter.ToUInt32(state.FxsaveArea, 24), BitConverter.ToUInt32(back.FxsaveArea, 24));
        // The TSC runs on between the two calls, but not backwards and not by a second.
        if (back.Tsc < state.Tsc)
            differences.Add($"TSC went back: set {state.Tsc}, read {back.Tsc}");
        return differences.Count == 0 ? null : string.Join("; ", differences);
    }

    /// <summary>100,000 OUTs, each one exit, in order, with its value: none lost, none merged.</summary>
    private string? PortOutFlood()
    {
        const int Count = 100_000;
        var a = new Assembler(32);
        Label loop = a.CreateLabel();
        a.mov(ecx, 0);
        a.mov(dx, 0x3F0);
        a.Label(ref loop);
        a.mov(eax, ecx);
        a.@out(dx, eax);
        a.inc(ecx);
        a.cmp(ecx, Count);
        a.jne(loop);
        a.hlt();
        using IVirtualMachine machine = Load(a, out IVirtualProcessor cpu);

        for (uint expected = 0; expected < Count; expected++)
        {
            VpExit exit = cpu.Run();
            if (exit.Reason != VpExitReason.PortOut || exit.Port != 0x3F0 || exit.Size != 4 || exit.Data != expected)
                return $"exit {expected}: {Describe(exit)}, expected a 4-byte write of {expected} to port 0x3f0";
        }

        return ExpectHalt(cpu);
    }

    /// <summary>REP OUTSB and REP INSB: one exit per item, INS items landing in memory as completed.</summary>
    private string? StringIo()
    {
        var a = new Assembler(32);
        a.mov(esi, 0x3000);
        a.mov(ecx, 8);
        a.mov(dx, 0x3F1);
        a.rep.outsb();
        a.mov(edi, 0x3100);
        a.mov(ecx, 8);
        a.rep.insb();
        a.hlt();
        using IVirtualMachine machine = Load(a, out IVirtualProcessor cpu);
        machine.Memory.Write(0x3000, "ACTORS!\n"u8);

        for (int i = 0; i < 8; i++)
        {
            VpExit exit = cpu.Run();
            if (exit.Reason != VpExitReason.PortOut || exit.Port != 0x3F1 || exit.Size != 1 || exit.Data != "ACTORS!\n"u8[i])
                return $"OUTSB item {i}: {Describe(exit)}";
        }

        for (int i = 0; i < 8; i++)
        {
            VpExit exit = cpu.Run();
            if (exit.Reason != VpExitReason.PortIn || exit.Port != 0x3F1 || exit.Size != 1)
                return $"INSB item {i}: {Describe(exit)}";
            cpu.CompletePortIn((ulong)(0x60 + i));
        }

        if (ExpectHalt(cpu) is { } problem)
            return problem;
        Span<byte> read = stackalloc byte[8];
        machine.Memory.Read(0x3100, read);
        return read.SequenceEqual("`abcdefg"u8) ? null : $"INSB stored {Convert.ToHexString(read)}, not the completed values";
    }

    /// <summary>A write and a read in an MMIO window: exits with address, size and data; the read's completion reaches the register.</summary>
    private string? MmioExits()
    {
        var a = new Assembler(32);
        a.mov(eax, 0x1234_5678);
        a.mov(__dword_ptr[(uint)Window], eax);
        a.mov(ebx, __dword_ptr[(uint)Window + 8]);
        a.hlt();
        using IVirtualMachine machine = Load(a, out IVirtualProcessor cpu);

        VpExit write = cpu.Run();
        if (write.Reason != VpExitReason.MmioWrite || write.Address != Window || write.Size != 4 || write.Data != 0x1234_5678)
            return $"write: {Describe(write)}";
        VpExit read = cpu.Run();
        if (read.Reason != VpExitReason.MmioRead || read.Address != Window + 8 || read.Size != 4)
            return $"read: {Describe(read)}";
        cpu.CompleteMmioRead(0xCAFE_F00D);
        if (ExpectHalt(cpu) is { } problem)
            return problem;
        ulong ebxValue = cpu.GetGeneralRegisters().Gprs[3];
        return ebxValue == 0xCAFE_F00D ? null : $"EBX is 0x{ebxValue:x} after the completed read, not 0xcafef00d";
    }

    /// <summary>Pages the guest writes are in the next collection once; a collection re-arms tracking; host writes count too.</summary>
    private string? DirtyLog()
    {
        var a = new Assembler(32);
        a.mov(__dword_ptr[0x20_0000], 1); // page 0x200
        a.mov(__dword_ptr[0x30_0010], 2); // page 0x300
        a.hlt();
        a.mov(__dword_ptr[0x20_0100], 3); // page 0x200 again, after the collection
        a.hlt();
        using IVirtualMachine machine = Load(a, out IVirtualProcessor cpu);
        ulong[] dirty = new ulong[machine.DirtyPageWords];
        machine.CollectDirtyPages(dirty); // the loader's writes

        if (ExpectHalt(cpu) is { } halted)
            return halted;
        machine.CollectDirtyPages(dirty);
        // KVM also reports the code page the first time the guest runs (it maps it writable on first use);
        // an extra page costs a migration one page's copy, a missing one would lose a write.
        List<ulong> first = Pages(dirty);
        if (!first.Contains(0x200) || !first.Contains(0x300) || first.Any(p => p is not (0x200 or 0x300 or Code / 0x1000)))
            return $"after two writes the log holds pages [{string.Join(", ", first.Select(p => $"0x{p:x}"))}], not [0x200, 0x300]";
        machine.CollectDirtyPages(dirty);
        if (Pages(dirty).Count != 0)
            return $"a second collection is not empty: [{string.Join(", ", Pages(dirty).Select(p => $"0x{p:x}"))}]";

        RunPastHalt(cpu);
        if (ExpectHalt(cpu) is { } second)
            return second;
        machine.Memory.Write(0x38_0000, [1]); // a host write (a device's DMA), which the hardware does not see
        ulong counted = machine.CountDirtyPages();
        machine.CollectDirtyPages(dirty);
        if (Pages(dirty) is not [0x200, 0x380] again || counted != 2)
            return $"after a guest and a host write the log holds [{string.Join(", ", Pages(dirty).Select(p => $"0x{p:x}"))}] (counted {counted}), not [0x200, 0x380]";
        return null;
    }

    /// <summary>An exception with no IDT to deliver it through: #GP, #DF, then the shutdown exit, not a crash or a hang.</summary>
    private string? TripleFault()
    {
        var a = new Assembler(32);
        a.int3();
        a.hlt();
        using IVirtualMachine machine = Load(a, out IVirtualProcessor cpu);
        VpState state = cpu.GetState();
        state.Idtr = new DescriptorTableRegister(0, 0);
        cpu.SetState(state);
        VpExit exit = cpu.Run();
        return exit.Reason == VpExitReason.Shutdown ? null : $"{Describe(exit)}, expected the shutdown exit";
    }

    private IVirtualMachine CreateMachine() => backend.CreateMachine(new MachineConfiguration(
        new GuestMemoryLayout(MemoryBytes, [new RamRegion("ram", 0, MemoryBytes, 0)], [new MmioWindow("device", Window, 0x1000)]), 1, InterruptControllerMode.Userspace, new PlatformClock()));

    private IVirtualMachine Load(Assembler code, out IVirtualProcessor cpu)
    {
        IVirtualMachine machine = CreateMachine();
        var stream = new MemoryStream();
        code.Assemble(new StreamCodeWriter(stream), Code);
        machine.Memory.Write(Code, stream.ToArray());
        cpu = machine.Processors[0];
        cpu.SetState(FlatState());
        return machine;
    }

    /// <summary>32-bit protected mode, flat segments, paging off, at <see cref="Code"/>.</summary>
    private static VpState FlatState() => new()
    {
        Rip = Code,
        Rflags = 0x2,
        Cs = SegmentRegister.Flat32(0x08, code: true),
        Ds = SegmentRegister.Flat32(0x10, code: false),
        Es = SegmentRegister.Flat32(0x10, code: false),
        Ss = SegmentRegister.Flat32(0x10, code: false),
        Fs = SegmentRegister.Flat32(0x10, code: false),
        Gs = SegmentRegister.Flat32(0x10, code: false),
        Ldtr = new SegmentRegister(0, 0, 0xFFFF, 2, true, 0, false, false, false, false, false, false),
        Tr = new SegmentRegister(0x18, 0, 0xFFFF, 11, true, 0, false, false, false, false, false, false),
        Gdtr = new DescriptorTableRegister(0x500, 0x1F),
        Idtr = new DescriptorTableRegister(0x600, 0x7FF),
        Cr0 = 0x11, // PE, ET
    };

    private static string? ExpectHalt(IVirtualProcessor cpu)
    {
        VpExit exit = cpu.Run();
        return exit.Reason == VpExitReason.Halt ? null : $"{Describe(exit)}, expected HLT";
    }

    /// <summary>A halted vCPU stays halted until something wakes it: set it running at the next instruction.</summary>
    private static void RunPastHalt(IVirtualProcessor cpu)
    {
        VpState state = cpu.GetState();
        state.Halted = false;
        cpu.SetState(state);
    }

    private static List<ulong> Pages(ulong[] bitmap)
    {
        var pages = new List<ulong>();
        for (int w = 0; w < bitmap.Length; w++)
        {
            for (ulong bits = bitmap[w]; bits != 0; bits &= bits - 1)
                pages.Add(((ulong)w * 64) + (ulong)System.Numerics.BitOperations.TrailingZeroCount(bits));
        }

        return pages;
    }

    private static string Describe(in VpExit exit) =>
        $"{exit.Reason} port/address 0x{exit.Address:x} size {exit.Size} data 0x{exit.Data:x}{(exit.Message is null ? "" : $" ({exit.Message})")}";
}
