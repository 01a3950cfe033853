namespace Actors.HwBackend.Abstractions;

/// <summary>
/// The registers a hypercall or an emulated instruction reads and writes: the sixteen general-purpose
/// registers, RIP and RFLAGS (KVM's <c>kvm_regs</c>). A value, exchanged without copying the rest of <see cref="VpState"/>.
/// </summary>
public struct GeneralRegisters
{
    public GeneralPurposeRegisterFile Gprs;
    public ulong Rip;
    public ulong Rflags;
}
