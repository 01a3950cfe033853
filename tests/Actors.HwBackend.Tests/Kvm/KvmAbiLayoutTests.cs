using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Actors.HwBackend.Kvm.Interop;
using Xunit;

namespace Actors.HwBackend.Tests.Kvm;

/// <summary>
/// The layout probe: every size, offset and ioctl number of our KVM definitions against the kernel's own
/// headers, through a C program compiled with gcc against linux-libc-dev. A wrong offset here would make
/// the kernel read or write the wrong bytes of a structure without any error.
/// </summary>
public sealed class KvmAbiLayoutTests
{
    private static IEnumerable<(string C, long Ours)> Facts()
    {
        (string, long) Size<T>(string c) where T : unmanaged => ($"sizeof(struct {c})", Unsafe.SizeOf<T>());
        (string, long) Offset<T>(string c, string field, string ours) => ($"offsetof(struct {c}, {field})", (long)Marshal.OffsetOf<T>(ours));

        yield return Size<KvmRegs>("kvm_regs");
        yield return Offset<KvmRegs>("kvm_regs", "rsp", nameof(KvmRegs.Rsp));
        yield return Offset<KvmRegs>("kvm_regs", "r8", nameof(KvmRegs.R8));
        yield return Offset<KvmRegs>("kvm_regs", "rip", nameof(KvmRegs.Rip));
        yield return Offset<KvmRegs>("kvm_regs", "rflags", nameof(KvmRegs.Rflags));
        yield return Size<KvmSegment>("kvm_segment");
        yield return Offset<KvmSegment>("kvm_segment", "selector", nameof(KvmSegment.Selector));
        yield return Offset<KvmSegment>("kvm_segment", "type", nameof(KvmSegment.Type));
        yield return Offset<KvmSegment>("kvm_segment", "unusable", nameof(KvmSegment.Unusable));
        yield return Size<KvmDtable>("kvm_dtable");
        yield return Size<KvmSregs>("kvm_sregs");
        yield return Offset<KvmSregs>("kvm_sregs", "ldt", nameof(KvmSregs.Ldt));
        yield return Offset<KvmSregs>("kvm_sregs", "gdt", nameof(KvmSregs.Gdt));
        yield return Offset<KvmSregs>("kvm_sregs", "cr0", nameof(KvmSregs.Cr0));
        yield return Offset<KvmSregs>("kvm_sregs", "efer", nameof(KvmSregs.Efer));
        yield return Offset<KvmSregs>("kvm_sregs", "apic_base", nameof(KvmSregs.ApicBase));
        yield return Offset<KvmSregs>("kvm_sregs", "interrupt_bitmap", nameof(KvmSregs.InterruptBitmap));
        yield return Size<KvmFpu>("kvm_fpu");
        yield return Offset<KvmFpu>("kvm_fpu", "fcw", nameof(KvmFpu.Fcw));
        yield return Offset<KvmFpu>("kvm_fpu", "ftwx", nameof(KvmFpu.Ftwx));
        yield return Offset<KvmFpu>("kvm_fpu", "last_opcode", nameof(KvmFpu.LastOpcode));
        yield return Offset<KvmFpu>("kvm_fpu", "last_ip", nameof(KvmFpu.LastIp));
        yield return Offset<KvmFpu>("kvm_fpu", "xmm", nameof(KvmFpu.Xmm));
        yield return Offset<KvmFpu>("kvm_fpu", "mxcsr", nameof(KvmFpu.Mxcsr));
        yield return Size<KvmXsave>("kvm_xsave");
        yield return Size<KvmMsrEntry>("kvm_msr_entry");
        yield return Offset<KvmMsrEntry>("kvm_msr_entry", "data", nameof(KvmMsrEntry.Data));
        yield return ("sizeof(struct kvm_msrs)", 8);
        yield return ("offsetof(struct kvm_msrs, entries)", 8);
        yield return Size<KvmCpuidEntry2>("kvm_cpuid_entry2");
        yield return Offset<KvmCpuidEntry2>("kvm_cpuid_entry2", "eax", nameof(KvmCpuidEntry2.Eax));
        yield return Offset<KvmCpuidEntry2>("kvm_cpuid_entry2", "edx", nameof(KvmCpuidEntry2.Edx));
        yield return ("sizeof(struct kvm_cpuid2)", 8);
        yield return ("offsetof(struct kvm_cpuid2, entries)", 8);
        yield return ("KVM_CPUID_FLAG_SIGNIFCANT_INDEX", KvmCpuidEntry2.SignificantIndex);
        yield return Size<KvmUserspaceMemoryRegion>("kvm_userspace_memory_region");
        yield return Offset<KvmUserspaceMemoryRegion>("kvm_userspace_memory_region", "guest_phys_addr", nameof(KvmUserspaceMemoryRegion.GuestPhysAddr));
        yield return Offset<KvmUserspaceMemoryRegion>("kvm_userspace_memory_region", "userspace_addr", nameof(KvmUserspaceMemoryRegion.UserspaceAddr));
        yield return ("KVM_MEM_LOG_DIRTY_PAGES", KvmUserspaceMemoryRegion.LogDirtyPages);
        yield return Size<KvmDirtyLog>("kvm_dirty_log");
        yield return Offset<KvmDirtyLog>("kvm_dirty_log", "dirty_bitmap", nameof(KvmDirtyLog.DirtyBitmap));
        yield return Size<KvmVcpuEvents>("kvm_vcpu_events");
        yield return Offset<KvmVcpuEvents>("kvm_vcpu_events", "exception.error_code", nameof(KvmVcpuEvents.ExceptionErrorCode));
        yield return Offset<KvmVcpuEvents>("kvm_vcpu_events", "interrupt.shadow", nameof(KvmVcpuEvents.InterruptShadow));
        yield return Offset<KvmVcpuEvents>("kvm_vcpu_events", "nmi.masked", nameof(KvmVcpuEvents.NmiMasked));
        yield return Offset<KvmVcpuEvents>("kvm_vcpu_events", "sipi_vector", nameof(KvmVcpuEvents.SipiVector));
        yield return Offset<KvmVcpuEvents>("kvm_vcpu_events", "flags", nameof(KvmVcpuEvents.Flags));
        yield return Offset<KvmVcpuEvents>("kvm_vcpu_events", "smi.latched_init", nameof(KvmVcpuEvents.LatchedInit));
        yield return Offset<KvmVcpuEvents>("kvm_vcpu_events", "triple_fault.pending", nameof(KvmVcpuEvents.TripleFaultPending));
        yield return Offset<KvmVcpuEvents>("kvm_vcpu_events", "exception_has_payload", nameof(KvmVcpuEvents.ExceptionHasPayload));
        yield return Offset<KvmVcpuEvents>("kvm_vcpu_events", "exception_payload", nameof(KvmVcpuEvents.ExceptionPayload));
        yield return ("KVM_VCPUEVENT_VALID_NMI_PENDING", KvmVcpuEvents.ValidNmiPending);
        yield return ("KVM_VCPUEVENT_VALID_SHADOW", KvmVcpuEvents.ValidShadow);
        yield return ("KVM_VCPUEVENT_VALID_TRIPLE_FAULT", KvmVcpuEvents.ValidTripleFault);
        yield return Size<KvmDebugRegs>("kvm_debugregs");
        yield return Offset<KvmDebugRegs>("kvm_debugregs", "dr6", nameof(KvmDebugRegs.Dr6));
        yield return Offset<KvmDebugRegs>("kvm_debugregs", "dr7", nameof(KvmDebugRegs.Dr7));
        yield return Size<KvmXcrs>("kvm_xcrs");
        yield return Offset<KvmXcrs>("kvm_xcrs", "xcrs", nameof(KvmXcrs.Xcrs));
        yield return Offset<KvmXcrs>("kvm_xcrs", "padding", nameof(KvmXcrs.Padding));
        yield return Size<KvmEnableCap>("kvm_enable_cap");
        yield return Offset<KvmEnableCap>("kvm_enable_cap", "args", nameof(KvmEnableCap.Args));
        yield return Size<KvmDeviceAttr>("kvm_device_attr");
        yield return Offset<KvmDeviceAttr>("kvm_device_attr", "attr", nameof(KvmDeviceAttr.Attr));
        yield return Offset<KvmDeviceAttr>("kvm_device_attr", "addr", nameof(KvmDeviceAttr.Addr));
        yield return ("KVM_VCPU_TSC_CTRL", 0);
        yield return ("KVM_VCPU_TSC_OFFSET", 0);
        yield return Size<KvmMsrFilterRange>("kvm_msr_filter_range");
        yield return Offset<KvmMsrFilterRange>("kvm_msr_filter_range", "bitmap", nameof(KvmMsrFilterRange.Bitmap));
        yield return Size<KvmMsrFilter>("kvm_msr_filter");
        yield return Offset<KvmMsrFilter>("kvm_msr_filter", "ranges", nameof(KvmMsrFilter.Ranges));
        yield return ("KVM_MSR_FILTER_READ", KvmMsrFilterRange.Read);
        yield return ("KVM_MSR_FILTER_WRITE", KvmMsrFilterRange.Write);
        yield return ("KVM_MSR_FILTER_DEFAULT_DENY", KvmMsrFilter.DefaultDeny);

        // kvm_run: the fixed part, then each exit's details in the union.
        yield return Offset<KvmRun>("kvm_run", "immediate_exit", nameof(KvmRun.ImmediateExit));
        yield return Offset<KvmRun>("kvm_run", "exit_reason", nameof(KvmRun.ExitReason));
        yield return Offset<KvmRun>("kvm_run", "ready_for_interrupt_injection", nameof(KvmRun.ReadyForInterruptInjection));
        yield return Offset<KvmRun>("kvm_run", "if_flag", nameof(KvmRun.IfFlag));
        yield return Offset<KvmRun>("kvm_run", "cr8", nameof(KvmRun.Cr8));
        yield return Offset<KvmRun>("kvm_run", "apic_base", nameof(KvmRun.ApicBase));
        yield return ("offsetof(struct kvm_run, io)", KvmRun.ExitDetailsOffset);
        yield return ("offsetof(struct kvm_run, io.port)", KvmRun.ExitDetailsOffset + (long)Marshal.OffsetOf<KvmRunIo>(nameof(KvmRunIo.Port)));
        yield return ("offsetof(struct kvm_run, io.count)", KvmRun.ExitDetailsOffset + (long)Marshal.OffsetOf<KvmRunIo>(nameof(KvmRunIo.Count)));
        yield return ("offsetof(struct kvm_run, io.data_offset)", KvmRun.ExitDetailsOffset + (long)Marshal.OffsetOf<KvmRunIo>(nameof(KvmRunIo.DataOffset)));
        yield return ("KVM_EXIT_IO_OUT", KvmRunIo.Out);
        yield return ("offsetof(struct kvm_run, mmio.data)", KvmRun.ExitDetailsOffset + (long)Marshal.OffsetOf<KvmRunMmio>(nameof(KvmRunMmio.Data)));
        yield return ("offsetof(struct kvm_run, mmio.len)", KvmRun.ExitDetailsOffset + (long)Marshal.OffsetOf<KvmRunMmio>(nameof(KvmRunMmio.Len)));
        yield return ("offsetof(struct kvm_run, mmio.is_write)", KvmRun.ExitDetailsOffset + (long)Marshal.OffsetOf<KvmRunMmio>(nameof(KvmRunMmio.IsWrite)));
        yield return ("offsetof(struct kvm_run, msr.reason)", KvmRun.ExitDetailsOffset + (long)Marshal.OffsetOf<KvmRunMsr>(nameof(KvmRunMsr.Reason)));
        yield return ("offsetof(struct kvm_run, msr.index)", KvmRun.ExitDetailsOffset + (long)Marshal.OffsetOf<KvmRunMsr>(nameof(KvmRunMsr.Index)));
        yield return ("offsetof(struct kvm_run, msr.data)", KvmRun.ExitDetailsOffset + (long)Marshal.OffsetOf<KvmRunMsr>(nameof(KvmRunMsr.Data)));
        yield return ("offsetof(struct kvm_run, internal.ndata)", KvmRun.ExitDetailsOffset + (long)Marshal.OffsetOf<KvmRunInternal>(nameof(KvmRunInternal.Ndata)));
        yield return ("offsetof(struct kvm_run, internal.data)", KvmRun.ExitDetailsOffset + (long)Marshal.OffsetOf<KvmRunInternal>(nameof(KvmRunInternal.Data)));
        yield return ("offsetof(struct kvm_run, system_event.type)", KvmRun.ExitDetailsOffset);
        yield return ("offsetof(struct kvm_run, fail_entry.hardware_entry_failure_reason)", KvmRun.ExitDetailsOffset);

        foreach (KvmExitReason reason in Enum.GetValues<KvmExitReason>())
            yield return ($"KVM_EXIT_{ExitMacro(reason)}", (long)reason);
        foreach (KvmCapability capability in Enum.GetValues<KvmCapability>())
            yield return ($"KVM_CAP_{Macro(capability.ToString())}", (long)capability);
        foreach (KvmMpState state in Enum.GetValues<KvmMpState>())
            yield return ($"KVM_MP_STATE_{Macro(state.ToString())}", (long)state);

        (string, long) Ioctl(string c, nuint ours) => (c, (long)ours);
        yield return Ioctl("KVM_GET_API_VERSION", KvmIoctls.GetApiVersion);
        yield return Ioctl("KVM_CREATE_VM", KvmIoctls.CreateVm);
        yield return Ioctl("KVM_GET_MSR_INDEX_LIST", KvmIoctls.GetMsrIndexList);
        yield return Ioctl("KVM_CHECK_EXTENSION", KvmIoctls.CheckExtension);
        yield return Ioctl("KVM_GET_VCPU_MMAP_SIZE", KvmIoctls.GetVcpuMmapSize);
        yield return Ioctl("KVM_GET_SUPPORTED_CPUID", KvmIoctls.GetSupportedCpuid);
        yield return Ioctl("KVM_CREATE_VCPU", KvmIoctls.CreateVcpu);
        yield return Ioctl("KVM_GET_DIRTY_LOG", KvmIoctls.GetDirtyLog);
        yield return Ioctl("KVM_SET_USER_MEMORY_REGION", KvmIoctls.SetUserMemoryRegion);
        yield return Ioctl("KVM_SET_TSS_ADDR", KvmIoctls.SetTssAddr);
        yield return Ioctl("KVM_SET_IDENTITY_MAP_ADDR", KvmIoctls.SetIdentityMapAddr);
        yield return Ioctl("KVM_ENABLE_CAP", KvmIoctls.EnableCap);
        yield return Ioctl("KVM_X86_SET_MSR_FILTER", KvmIoctls.SetMsrFilter);
        yield return Ioctl("KVM_RUN", KvmIoctls.Run);
        yield return Ioctl("KVM_GET_REGS", KvmIoctls.GetRegs);
        yield return Ioctl("KVM_SET_REGS", KvmIoctls.SetRegs);
        yield return Ioctl("KVM_GET_SREGS", KvmIoctls.GetSregs);
        yield return Ioctl("KVM_SET_SREGS", KvmIoctls.SetSregs);
        yield return Ioctl("KVM_INTERRUPT", KvmIoctls.Interrupt);
        yield return Ioctl("KVM_GET_MSRS", KvmIoctls.GetMsrs);
        yield return Ioctl("KVM_SET_MSRS", KvmIoctls.SetMsrs);
        yield return Ioctl("KVM_GET_FPU", KvmIoctls.GetFpu);
        yield return Ioctl("KVM_SET_FPU", KvmIoctls.SetFpu);
        yield return Ioctl("KVM_SET_CPUID2", KvmIoctls.SetCpuid2);
        yield return Ioctl("KVM_GET_MP_STATE", KvmIoctls.GetMpState);
        yield return Ioctl("KVM_SET_MP_STATE", KvmIoctls.SetMpState);
        yield return Ioctl("KVM_NMI", KvmIoctls.Nmi);
        yield return Ioctl("KVM_GET_VCPU_EVENTS", KvmIoctls.GetVcpuEvents);
        yield return Ioctl("KVM_SET_VCPU_EVENTS", KvmIoctls.SetVcpuEvents);
        yield return Ioctl("KVM_GET_DEBUGREGS", KvmIoctls.GetDebugRegs);
        yield return Ioctl("KVM_SET_DEBUGREGS", KvmIoctls.SetDebugRegs);
        yield return Ioctl("KVM_GET_TSC_KHZ", KvmIoctls.GetTscKhz);
        yield return Ioctl("KVM_GET_XSAVE", KvmIoctls.GetXsave);
        yield return Ioctl("KVM_SET_XSAVE", KvmIoctls.SetXsave);
        yield return Ioctl("KVM_GET_XCRS", KvmIoctls.GetXcrs);
        yield return Ioctl("KVM_SET_XCRS", KvmIoctls.SetXcrs);
        yield return Ioctl("KVM_SET_DEVICE_ATTR", KvmIoctls.SetDeviceAttr);
        yield return Ioctl("KVM_GET_DEVICE_ATTR", KvmIoctls.GetDeviceAttr);
        yield return Ioctl("KVM_HAS_DEVICE_ATTR", KvmIoctls.HasDeviceAttr);
    }

    [Fact]
    public async Task Every_size_offset_and_ioctl_number_matches_the_kernel_headers()
    {
        List<(string C, long Ours)> facts = [.. Facts()];
        string directory = Directory.CreateTempSubdirectory("actors-kvm-probe-").FullName;
        try
        {
            var source = new StringBuilder("#include <stddef.h>\n#include <stdio.h>\n#include <linux/kvm.h>\nint main(void) {\n");
            foreach ((string c, _) in facts)
                source.Append("    printf(\"%llu\\n\", (unsigned long long)(").Append(c).Append("));\n");
            source.Append("    return 0;\n}\n");
            string probe = Path.Combine(directory, "probe");
            await File.WriteAllTextAsync(Path.Combine(directory, "probe.c"), source.ToString());

            (int compiled, _, string compileErrors) = await RunAsync("gcc", "-o", probe, Path.Combine(directory, "probe.c"));
            Assert.True(compiled == 0, $"gcc could not compile the probe against <linux/kvm.h> (Debian package linux-libc-dev): {compileErrors}");
            (int ran, string output, string errors) = await RunAsync(probe);
            Assert.True(ran == 0, errors);

            string[] kernel = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(facts.Count, kernel.Length);
            var mismatches = facts.Zip(kernel)
                .Where(p => (ulong)p.First.Ours != ulong.Parse(p.Second, System.Globalization.CultureInfo.InvariantCulture))
                .Select(p => $"{p.First.C}: kernel {p.Second}, ours {p.First.Ours}")
                .ToList();
            Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string ExitMacro(KvmExitReason reason) => reason switch
    {
        KvmExitReason.Hlt => "HLT",
        KvmExitReason.Mmio => "MMIO",
        KvmExitReason.Nmi => "NMI",
        KvmExitReason.Intr => "INTR",
        KvmExitReason.Io => "IO",
        KvmExitReason.Hyperv => "HYPERV",
        KvmExitReason.X86Rdmsr => "X86_RDMSR",
        KvmExitReason.X86Wrmsr => "X86_WRMSR",
        KvmExitReason.IoapicEoi => "IOAPIC_EOI",
        _ => Macro(reason.ToString()),
    };

    /// <summary>IrqWindowOpen → IRQ_WINDOW_OPEN.</summary>
    private static string Macro(string name)
    {
        var macro = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && !char.IsUpper(name[i - 1]))
                macro.Append('_');
            macro.Append(char.ToUpperInvariant(name[i]));
        }

        return macro.ToString();
    }

    private static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await errors);
    }
}
