using System.Runtime.InteropServices;

namespace Actors.HwBackend.Kvm.Interop;

// The kernel's KVM structures for x86-64 (linux/kvm.h and asm/kvm.h), field for field. Names follow the
// kernel's; the layout probe test checks every size and offset against the headers with gcc.

/// <summary><c>struct kvm_regs</c>: the general registers in the kernel's order (not the encoding order).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmRegs
{
    public ulong Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rsp, Rbp;
    public ulong R8, R9, R10, R11, R12, R13, R14, R15;
    public ulong Rip, Rflags;
}

/// <summary><c>struct kvm_segment</c>: a segment register with its hidden part unpacked.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmSegment
{
    public ulong Base;
    public uint Limit;
    public ushort Selector;
    public byte Type, Present, Dpl, Db, S, L, G, Avl, Unusable, Padding;
}

/// <summary><c>struct kvm_dtable</c>: GDTR or IDTR.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmDtable
{
    public ulong Base;
    public ushort Limit;
    public ushort Padding0, Padding1, Padding2;
}

/// <summary><c>struct kvm_sregs</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmSregs
{
    public KvmSegment Cs, Ds, Es, Fs, Gs, Ss, Tr, Ldt;
    public KvmDtable Gdt, Idt;
    public ulong Cr0, Cr2, Cr3, Cr4, Cr8, Efer, ApicBase;

    /// <summary>One bit per vector: an external interrupt the processor accepted and has not delivered.</summary>
    public fixed ulong InterruptBitmap[4];
}

/// <summary><c>struct kvm_fpu</c>: the FXSAVE image, unpacked.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmFpu
{
    public fixed byte Fpr[128];
    public ushort Fcw, Fsw;
    public byte Ftwx, Pad1;
    public ushort LastOpcode;
    public ulong LastIp, LastDp;
    public fixed byte Xmm[256];
    public uint Mxcsr, Pad2;
}

/// <summary>
/// <c>struct kvm_xsave</c>: the XSAVE image, whose first 512 bytes are the FXSAVE layout and whose header (at
/// 512) says which components hold state. KVM_SET_FPU cannot set MXCSR; this can.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmXsave
{
    public const int HeaderOffset = 512;

    public fixed byte Region[4096];
}

/// <summary><c>struct kvm_msr_entry</c>; an array of these follows the 8-byte <c>struct kvm_msrs</c> header.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmMsrEntry
{
    public uint Index, Reserved;
    public ulong Data;
}

/// <summary><c>struct kvm_cpuid_entry2</c>; an array of these follows the 8-byte <c>struct kvm_cpuid2</c> header.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmCpuidEntry2
{
    public const uint SignificantIndex = 1;

    public uint Function, Index, Flags, Eax, Ebx, Ecx, Edx;
    public fixed uint Padding[3];
}

/// <summary><c>struct kvm_userspace_memory_region</c>: one memory slot.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmUserspaceMemoryRegion
{
    public const uint LogDirtyPages = 1;

    public uint Slot, Flags;
    public ulong GuestPhysAddr, MemorySize, UserspaceAddr;
}

/// <summary><c>struct kvm_dirty_log</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmDirtyLog
{
    public uint Slot, Padding1;
    public ulong DirtyBitmap;
}

/// <summary><c>struct kvm_vcpu_events</c>: what is pending or being delivered between instructions.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmVcpuEvents
{
    public const uint ValidNmiPending = 1, ValidSipiVector = 2, ValidShadow = 4, ValidSmm = 8, ValidPayload = 16, ValidTripleFault = 32;

    public byte ExceptionInjected, ExceptionNr, ExceptionHasErrorCode, ExceptionPending;
    public uint ExceptionErrorCode;
    public byte InterruptInjected, InterruptNr, InterruptSoft, InterruptShadow;
    public byte NmiInjected, NmiPending, NmiMasked, NmiPad;
    public uint SipiVector, Flags;
    public byte Smm, SmiPending, SmmInsideNmi, LatchedInit;
    public byte TripleFaultPending;
    public fixed byte Reserved[26];
    public byte ExceptionHasPayload;
    public ulong ExceptionPayload;
}

/// <summary><c>struct kvm_debugregs</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmDebugRegs
{
    public fixed ulong Db[4];
    public ulong Dr6, Dr7, Flags;
    public fixed ulong Reserved[9];
}

/// <summary><c>struct kvm_xcrs</c>: up to 16 <c>{u32 xcr, u32 reserved, u64 value}</c> entries as words.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmXcrs
{
    public uint NrXcrs, Flags;
    public fixed ulong Xcrs[32];
    public fixed ulong Padding[16];
}

/// <summary><c>struct kvm_enable_cap</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmEnableCap
{
    public uint Cap, Flags;
    public fixed ulong Args[4];
    public fixed byte Pad[64];
}

/// <summary><c>struct kvm_device_attr</c>: a vCPU or device attribute (the TSC offset is one).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmDeviceAttr
{
    public uint Flags, Group;
    public ulong Attr, Addr;
}

/// <summary><c>struct kvm_msr_filter_range</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmMsrFilterRange
{
    public const uint Read = 1, Write = 2;

    public uint Flags, Nmsrs, Base;
    public ulong Bitmap;
}

/// <summary><c>struct kvm_msr_filter</c>: up to 16 ranges, each allowing (bit set) or denying MSRs to the guest.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmMsrFilter
{
    public const uint DefaultDeny = 1;

    public uint Flags;
    public KvmMsrFilterRanges Ranges;

    [System.Runtime.CompilerServices.InlineArray(16)]
    public struct KvmMsrFilterRanges
    {
        private KvmMsrFilterRange _first;
    }
}

/// <summary>The fixed part of <c>struct kvm_run</c>, the page shared with the kernel; the exit's details follow at <see cref="ExitDetailsOffset"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmRun
{
    public const int ExitDetailsOffset = 32;

    public byte RequestInterruptWindow, ImmediateExit;
    public fixed byte Padding1[6];
    public uint ExitReason;
    public byte ReadyForInterruptInjection, IfFlag;
    public ushort Flags;
    public ulong Cr8, ApicBase;
}

/// <summary><c>kvm_run.io</c>: the data (count items of size bytes) is at data_offset from the start of kvm_run.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmRunIo
{
    public const byte In = 0, Out = 1;

    public byte Direction, Size;
    public ushort Port;
    public uint Count;
    public ulong DataOffset;
}

/// <summary><c>kvm_run.mmio</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmRunMmio
{
    public ulong PhysAddr;
    public fixed byte Data[8];
    public uint Len;
    public byte IsWrite;
}

/// <summary><c>kvm_run.msr</c>, for the RDMSR and WRMSR exits of MSRs userspace handles.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmRunMsr
{
    public byte Error;
    public fixed byte Pad[7];
    public uint Reason, Index;
    public ulong Data;
}

/// <summary><c>kvm_run.internal</c> (and <c>fail_entry</c>, <c>system_event</c>, which share its first words).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmRunInternal
{
    public uint Suberror, Ndata;
    public fixed ulong Data[16];
}

/// <summary>KVM's exit reasons (KVM_EXIT_*), the ones this backend handles or reports.</summary>
internal enum KvmExitReason : uint
{
    Unknown = 0,
    Exception = 1,
    Io = 2,
    Hypercall = 3,
    Debug = 4,
    Hlt = 5,
    Mmio = 6,
    IrqWindowOpen = 7,
    Shutdown = 8,
    FailEntry = 9,
    Intr = 10,
    SetTpr = 11,
    TprAccess = 12,
    Nmi = 16,
    InternalError = 17,
    SystemEvent = 24,
    IoapicEoi = 26,
    Hyperv = 27,
    X86Rdmsr = 29,
    X86Wrmsr = 30,
}

/// <summary>KVM_CAP_* numbers for KVM_CHECK_EXTENSION and KVM_ENABLE_CAP.</summary>
internal enum KvmCapability : uint
{
    UserMemory = 3,
    SetTssAddr = 4,
    ExtCpuid = 7,
    NrVcpus = 9,
    NrMemslots = 10,
    MpState = 14,
    SyncMmu = 16,
    VcpuEvents = 41,
    Debugregs = 50,
    Xsave = 55,
    Xcrs = 56,
    TscControl = 60,
    GetTscKhz = 61,
    MaxVcpus = 66,
    SplitIrqchip = 121,
    VcpuAttributes = 127,
    ImmediateExit = 136,
    X86UserSpaceMsr = 188,
    X86MsrFilter = 189,
}

/// <summary><c>struct kvm_mp_state</c> values.</summary>
internal enum KvmMpState : uint
{
    Runnable = 0,
    Uninitialized = 1,
    InitReceived = 2,
    Halted = 3,
    SipiReceived = 4,
}
