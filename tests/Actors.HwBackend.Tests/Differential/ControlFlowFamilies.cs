using Iced.Intel;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// Jcc/JMP/CALL/RET/LOOP/JRCXZ. The code is <c>branch; not r14; nop...</c> padded to
/// <see cref="Target"/>, and every branch targets that address: taken or not, both sides end
/// at the same place (the host's NOP slide, the guest's HLT), and R14 tells which path ran.
/// Code sits at the same address on both sides, so pushed return addresses compare equal.
/// </summary>
internal static class ControlFlowFamilies
{
    /// <summary>Offset of the common landing point from the start of the code.</summary>
    private const int TargetOffset = 24;

    private static readonly ulong Target = DiffLayout.CodeAddress + TargetOffset;

    private static readonly byte[] NotR14 = [0x49, 0xF7, 0xD6];

    private static readonly Code[] JccShort =
    [
        Code.Jo_rel8_64, Code.Jno_rel8_64, Code.Jb_rel8_64, Code.Jae_rel8_64, Code.Je_rel8_64, Code.Jne_rel8_64,
        Code.Jbe_rel8_64, Code.Ja_rel8_64, Code.Js_rel8_64, Code.Jns_rel8_64, Code.Jp_rel8_64, Code.Jnp_rel8_64,
        Code.Jl_rel8_64, Code.Jge_rel8_64, Code.Jle_rel8_64, Code.Jg_rel8_64,
    ];

    private static readonly Code[] JccNear =
    [
        Code.Jo_rel32_64, Code.Jno_rel32_64, Code.Jb_rel32_64, Code.Jae_rel32_64, Code.Je_rel32_64, Code.Jne_rel32_64,
        Code.Jbe_rel32_64, Code.Ja_rel32_64, Code.Js_rel32_64, Code.Jns_rel32_64, Code.Jp_rel32_64, Code.Jnp_rel32_64,
        Code.Jl_rel32_64, Code.Jge_rel32_64, Code.Jle_rel32_64, Code.Jg_rel32_64,
    ];

    private static readonly Code[] Loops =
        [Code.Loop_rel8_64_RCX, Code.Loope_rel8_64_RCX, Code.Loopne_rel8_64_RCX, Code.Jrcxz_rel8_64];

    public static Family Branches { get; } = new()
    {
        Name = "JccJmpCallRetLoop",
        Cases = 5000,
        Custom = Build,
    };

    public static readonly Family[] All = [Branches];

    private static Instruction? Build(CaseBuilder b)
    {
        var rng = b.Rng;
        int roll = rng.Below(100);
        Code code = roll switch
        {
            < 35 => rng.Pick(JccShort),
            < 60 => rng.Pick(JccNear),
            < 64 => Code.Jmp_rel8_64,
            < 68 => Code.Jmp_rel32_64,
            < 74 => Code.Call_rel32_64,
            < 80 => Code.Jmp_rm64,
            < 86 => Code.Call_rm64,
            < 90 => Code.Retnq,
            < 93 => Code.Retnq_imm16,
            _ => rng.Pick(Loops),
        };

        b.Begin(code);
        b.Suffix = NotR14;
        b.PadTo = TargetOffset;
        var s = b.State;
        switch (code)
        {
            case Code.Jmp_rm64:
            case Code.Call_rm64:
                b.MemoryChance = 0.5;
                b.ChooseOperands();
                b.Set(0, Target);
                return b.BuildFromOperands();
            case Code.Retnq:
            case Code.Retnq_imm16:
                b.WriteData(DiffLayout.StackTop, 8, Target);
                // RET imm16 releases bytes above the return address; RSP stays inside the window.
                return code == Code.Retnq ? Instruction.Create(code) : Instruction.Create(code, 8 * rng.Range(0, 8));
            default:
                if (code is Code.Loop_rel8_64_RCX or Code.Loope_rel8_64_RCX or Code.Loopne_rel8_64_RCX or Code.Jrcxz_rel8_64)
                    s.Gprs[1] = rng.Chance(0.6) ? (ulong)rng.Range(0, 2) : rng.Edge(64);
                return Instruction.CreateBranch(code, Target);
        }
    }
}
