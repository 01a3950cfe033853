using Actors.HwBackend.Abstractions;
using Iced.Intel;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// Runs 32-bit code in compatibility mode on a <see cref="LongModeMachine"/> (a CS with L=0, D=1 under
/// long mode), so legacy-only instructions execute and their faults arrive through the 64-bit IDT.
/// </summary>
internal static class CompatibilityMode
{
    public const ushort Code32Selector = 0x18;

    /// <summary>Adds a 32-bit code descriptor at <see cref="Code32Selector"/>, assembles <paramref name="emit"/> as 32-bit code at CodeBase and returns the state that starts it.</summary>
    public static VpState Prepare(LongModeMachine m, Action<Assembler> emit)
    {
        m.Machine.Memory.WriteValue(LongModeMachine.GdtBase + Code32Selector, 0x00CF_9B00_0000_FFFFUL);
        m.Load(32, LongModeMachine.CodeBase, emit);
        var s = m.InitialState();
        s.Gdtr = new DescriptorTableRegister(LongModeMachine.GdtBase, 31);
        s.Cs = SegmentRegister.Flat32(Code32Selector, code: true);
        return s;
    }
}
