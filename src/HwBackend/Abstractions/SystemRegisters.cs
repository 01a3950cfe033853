namespace Actors.HwBackend.Abstractions;

/// <summary>
/// Segment registers with their hidden parts, descriptor tables, control registers, EFER and the
/// APIC base: the state that decides the processor's mode (KVM's <c>kvm_sregs</c>).
/// </summary>
public struct SystemRegisters
{
    public SegmentRegister Es, Cs, Ss, Ds, Fs, Gs, Ldtr, Tr;
    public DescriptorTableRegister Gdtr, Idtr;
    public ulong Cr0, Cr2, Cr3, Cr4, Cr8;
    public ulong Efer;
    public ulong ApicBase;
}
