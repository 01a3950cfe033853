using Iced.Intel;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// Byte sequences compilers and assemblers emit that Iced's encoder would not produce: gas's
/// multi-prefix NOP padding, <c>rep ret</c>, <c>bnd</c>/<c>notrack</c> branches (CET/MPX builds),
/// branch-hint prefixes, and the REX forms of opcode 90 (NOP for REX.W, XCHG for REX.B).
/// Branches use the same landing scheme as <see cref="ControlFlowFamilies"/>.
/// </summary>
internal static class PrefixFamilies
{
    private const int TargetOffset = 24;

    private static readonly ulong Target = DiffLayout.CodeAddress + TargetOffset;

    private static readonly byte[] NotR14 = [0x49, 0xF7, 0xD6];

    private static readonly byte[][] Nops = BuildNops();

    public static Family PrefixedNopsAndBranches { get; } = new()
    {
        Name = "PrefixedNopsAndBranches",
        CustomRaw = Build,
    };

    public static readonly Family[] All = [PrefixedNopsAndBranches];

    private static byte[][] BuildNops()
    {
        var list = new List<byte[]>
        {
            new byte[] { 0x90 },
            new byte[] { 0x66, 0x90 },
            new byte[] { 0x48, 0x90 }, // REX.W 90: still NOP
            new byte[] { 0x41, 0x90 }, // REX.B 90: xchg r8d, eax
            new byte[] { 0x49, 0x90 }, // xchg r8, rax
            new byte[] { 0xF3, 0x90 }, // pause
            new byte[] { 0x0F, 0x1F, 0x00 },
            new byte[] { 0x0F, 0x1F, 0x40, 0x00 },
            new byte[] { 0x0F, 0x1F, 0x44, 0x00, 0x00 },
            new byte[] { 0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00 },
            new byte[] { 0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00 },
            new byte[] { 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
            new byte[] { 0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
        };
        // gas pads with "data16 ... cs nopw 0x0(%rax,%rax,1)", up to 15 bytes.
        for (int k = 1; k <= 6; k++)
            list.Add([.. Enumerable.Repeat((byte)0x66, k), 0x2E, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00]);
        return [.. list];
    }

    private static (byte[] Code, int Length) Build(CaseBuilder b)
    {
        var rng = b.Rng;
        b.Begin(Code.Nopd);
        var s = b.State;
        if (rng.Chance(0.45))
        {
            var nop = rng.Pick(Nops);
            return (nop, nop.Length);
        }

        int reg = rng.Below(15);
        if (reg >= 4)
            reg++; // never RSP
        byte[] rex = reg >= 8 ? [0x41] : [];
        byte modrm = (byte)(reg & 7);
        byte[] branch;
        switch (rng.Below(7))
        {
            case 0:
                branch = [0xF3, 0xC3]; // rep ret
                b.WriteData(DiffLayout.StackTop, 8, Target);
                break;
            case 1:
                branch = [0xF2, 0xC3]; // bnd ret
                b.WriteData(DiffLayout.StackTop, 8, Target);
                break;
            case 2:
                branch = [0x3E, .. rex, 0xFF, (byte)(0xE0 | modrm)]; // notrack jmp reg
                s.Gprs[reg] = Target;
                break;
            case 3:
                branch = [0x3E, .. rex, 0xFF, (byte)(0xD0 | modrm)]; // notrack call reg
                s.Gprs[reg] = Target;
                break;
            case 4:
                branch = [0xF2, .. rex, 0xFF, (byte)(0xE0 | modrm)]; // bnd jmp reg
                s.Gprs[reg] = Target;
                break;
            case 5:
                branch = [0xF2, 0xE9, .. BitConverter.GetBytes(TargetOffset - 6)]; // bnd jmp rel32
                break;
            default:
                // Branch hints: CS = not taken, DS = taken; both ignored by execution.
                branch = [rng.Chance(0.5) ? (byte)0x2E : (byte)0x3E, (byte)(0x70 + rng.Below(16)), TargetOffset - 3];
                break;
        }
        var code = new List<byte>(branch);
        code.AddRange(NotR14);
        while (code.Count < TargetOffset)
            code.Add(0x90);
        return ([.. code], branch.Length);
    }
}
