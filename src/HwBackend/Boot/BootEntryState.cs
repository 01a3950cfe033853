using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Boot;

/// <summary>The register state vCPU 0 starts from, for each way of entering a guest.</summary>
internal static class BootEntryState
{
    private const ulong Cr0ProtectionEnable = 1UL << 0;
    private const ulong Cr0MonitorCoprocessor = 1UL << 1;
    private const ulong Cr0ExtensionType = 1UL << 4;
    private const ulong Cr0NumericError = 1UL << 5;
    private const ulong Cr0WriteProtect = 1UL << 16;
    private const ulong Cr0Paging = 1UL << 31;
    private const ulong Cr4Pae = 1UL << 5;
    private const ulong Cr4OsFxsr = 1UL << 9;
    private const ulong Cr4OsXmmExcpt = 1UL << 10;
    private const ulong EferLongModeEnable = 1UL << 8;
    private const ulong EferLongModeActive = 1UL << 10;
    private const ulong EferNoExecuteEnable = 1UL << 11;

    private const int Rax = 0;
    private const int Rbx = 3;
    private const int Rsp = 4;
    private const int Rsi = 6;

    /// <summary>
    /// Multiboot v1 machine state (specification section 3.2). CR0 is PE|ET without the reset
    /// value's CD/NW, so the guest runs with caches on as it would after a BIOS.
    /// ESP is left pointing at a small stack, although the spec leaves it undefined, so a
    /// kernel that pushes before setting its own stack does not scribble over address 0xFFFFFFFC.
    /// </summary>
    public static VpState Multiboot(ulong entry, ulong infoAddress, ulong gdtBase, ulong stackTop)
    {
        var state = Common(entry, gdtBase, stackTop);
        state.Gprs[Rax] = MultibootHeader.BootloaderMagic;
        state.Gprs[Rbx] = infoAddress;
        state.Cs = SegmentRegister.Flat32(BootBlock.CodeSelector, code: true);
        var data = SegmentRegister.Flat32(BootBlock.DataSelector, code: false);
        state.Ds = state.Es = state.Fs = state.Gs = state.Ss = data;
        state.Cr0 = Cr0ProtectionEnable | Cr0ExtensionType;
        state.Cr4 = 0;
        state.Efer = 0;
        return state;
    }

    /// <summary>
    /// 64-bit long mode on identity page tables. RAX/RBX carry the Multiboot magic and info
    /// address as in 32-bit entry, so one guest can find its memory map the same way on both paths.
    /// CR4.OSFXSR/OSXMMEXCPT (with CR0.MP) are set because compiled 64-bit code uses SSE freely and
    /// would take #UD on its first XMM instruction otherwise.
    /// </summary>
    public static VpState LongMode(ulong entry, ulong infoAddress, ulong gdtBase, ulong stackTop, ulong pageTableRoot)
    {
        var state = Common(entry, gdtBase, stackTop);
        state.Gprs[Rax] = MultibootHeader.BootloaderMagic;
        state.Gprs[Rbx] = infoAddress;
        state.Cs = SegmentRegister.Long64(BootBlock.CodeSelector, code: true);
        var data = SegmentRegister.Long64(BootBlock.DataSelector, code: false);
        state.Ds = state.Es = state.Fs = state.Gs = state.Ss = data;
        state.Cr0 = Cr0ProtectionEnable | Cr0MonitorCoprocessor | Cr0ExtensionType | Cr0NumericError | Cr0WriteProtect | Cr0Paging;
        state.Cr3 = pageTableRoot;
        state.Cr4 = Cr4Pae | Cr4OsFxsr | Cr4OsXmmExcpt;
        state.Efer = EferLongModeEnable | EferLongModeActive | EferNoExecuteEnable;
        return state;
    }

    /// <summary>
    /// Linux's 64-bit boot protocol: long mode on identity page tables, CS and DS at __BOOT_CS and
    /// __BOOT_DS (our GDT's 0x10 and 0x18), interrupts off, RSI at the zero page.
    /// </summary>
    public static VpState LinuxLongMode(ulong entry, ulong zeroPage, ulong gdtBase, ulong stackTop, ulong pageTableRoot)
    {
        var state = LongMode(entry, infoAddress: 0, gdtBase, stackTop, pageTableRoot);
        state.Gprs[Rax] = 0;
        state.Gprs[Rsi] = zeroPage;
        return state;
    }

    private static VpState Common(ulong entry, ulong gdtBase, ulong stackTop)
    {
        var state = new VpState
        {
            Rip = entry,
            Rflags = 0x2,
            Gdtr = new DescriptorTableRegister(gdtBase, BootBlock.GdtLimit),
            // An empty IDT: any exception before the guest installs its own escalates to a triple
            // fault, which is reported, instead of jumping through whatever lies at address 0.
            Idtr = new DescriptorTableRegister(0, 0),
            // A busy 32-bit TSS and an empty LDT are what a CPU has after reset; VMX entry checks
            // (KVM) insist on a usable TR even though nothing here uses it.
            Tr = new SegmentRegister(0, 0, 0xFFFF, 0xB, true, 0, false, false, false, false, false, false),
            Ldtr = new SegmentRegister(0, 0, 0xFFFF, 0x2, true, 0, false, false, false, false, false, false),
        };
        state.Gprs[Rsp] = stackTop;
        return state;
    }
}
