namespace Actors.HwBackend.Abstractions;

/// <summary>
/// What an enlightened partition adds to one virtual processor: the Hyper-V CPUID leaves and
/// synthetic MSRs (TLFS), and whether the guest has enabled the hypercall interface, without which
/// VMCALL is #UD and the hypercall page's port is an ordinary port (<see cref="HypercallConvention"/>).
/// Both backends consult it the same way: the software CPU as it executes, KVM at its user-space
/// MSR exits (the filter keeps the Hyper-V range from KVM) and at the hypercall port's exit.
/// </summary>
public interface ISyntheticRegisters
{
    /// <summary>The hypervisor CPUID leaves (0x40000000 and up); false for leaves it does not own.</summary>
    bool TryQueryCpuid(uint leaf, out uint eax, out uint ebx, out uint ecx, out uint edx);

    /// <summary>Whether <paramref name="index"/> is a synthetic MSR (implemented or not: the rest of the range is #GP).</summary>
    bool OwnsMsr(uint index);

    /// <summary>RDMSR; false means #GP.</summary>
    bool TryReadMsr(uint index, out ulong value);

    /// <summary>WRMSR; false means #GP.</summary>
    bool TryWriteMsr(uint index, ulong value);

    /// <summary>Whether the guest enabled the hypercall page (HV_X64_MSR_HYPERCALL bit 0).</summary>
    bool HypercallsEnabled { get; }

    /// <summary>
    /// Carries out a hypercall from CPL 0 with hypercalls enabled: the input value and the input and
    /// output parameters, as the calling convention in force passed them; returns the result value
    /// for RAX (or EDX:EAX). On the vCPU's thread, without leaving the backend's run loop, so that a
    /// hypercall costs no more than an instruction that touches a device.
    /// </summary>
    ulong Hypercall(ulong input, ulong inputParameter, ulong outputParameter);
}
