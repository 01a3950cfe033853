using Iced.Intel;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>MOVS/STOS/LODS/CMPS/SCAS in every size, with and without REP/REPE/REPNE, both directions.</summary>
internal static class StringFamilies
{
    private const int Rcx = 1, Rsi = 6, Rdi = 7;

    public static Family MovsStosLods { get; } = new()
    {
        Name = "MovsStosLods",
        Custom = b => Build(b, compare: false),
    };

    public static Family CmpsScas { get; } = new()
    {
        Name = "CmpsScas",
        Custom = b => Build(b, compare: true),
    };

    public static readonly Family[] All = [MovsStosLods, CmpsScas];

    private static Instruction? Build(CaseBuilder b, bool compare)
    {
        var rng = b.Rng;
        int sizeLog = rng.Below(4);
        int size = 1 << sizeLog;
        int kind = compare ? rng.Below(2) : rng.Below(3);
        RepPrefixKind rep;
        if (compare)
            rep = rng.Below(5) switch { 0 => RepPrefixKind.None, 1 or 2 => RepPrefixKind.Repe, _ => RepPrefixKind.Repne };
        else
            rep = rng.Chance(0.6) ? RepPrefixKind.Repe : RepPrefixKind.None;

        Instruction ins = (compare, kind, sizeLog) switch
        {
            (false, 0, 0) => Instruction.CreateMovsb(64, Register.None, rep),
            (false, 0, 1) => Instruction.CreateMovsw(64, Register.None, rep),
            (false, 0, 2) => Instruction.CreateMovsd(64, Register.None, rep),
            (false, 0, _) => Instruction.CreateMovsq(64, Register.None, rep),
            (false, 1, 0) => Instruction.CreateStosb(64, rep),
            (false, 1, 1) => Instruction.CreateStosw(64, rep),
            (false, 1, 2) => Instruction.CreateStosd(64, rep),
            (false, 1, _) => Instruction.CreateStosq(64, rep),
            (false, _, 0) => Instruction.CreateLodsb(64, Register.None, rep),
            (false, _, 1) => Instruction.CreateLodsw(64, Register.None, rep),
            (false, _, 2) => Instruction.CreateLodsd(64, Register.None, rep),
            (false, _, _) => Instruction.CreateLodsq(64, Register.None, rep),
            (true, 0, 0) => Instruction.CreateCmpsb(64, Register.None, rep),
            (true, 0, 1) => Instruction.CreateCmpsw(64, Register.None, rep),
            (true, 0, 2) => Instruction.CreateCmpsd(64, Register.None, rep),
            (true, 0, _) => Instruction.CreateCmpsq(64, Register.None, rep),
            (true, _, 0) => Instruction.CreateScasb(64, rep),
            (true, _, 1) => Instruction.CreateScasw(64, rep),
            (true, _, 2) => Instruction.CreateScasd(64, rep),
            (true, _, _) => Instruction.CreateScasq(64, rep),
        };

        b.Begin(ins.Code);
        var s = b.State;
        bool down = (s.Rflags & DefinedOutputs.DF) != 0;
        int count = rep == RepPrefixKind.None ? 1 : rng.Range(0, 12);
        if (rep != RepPrefixKind.None)
            s.Gprs[Rcx] = (ulong)count;
        // Without REP, RCX is not used: keep the random value to check it is left alone.

        const int lo = 0x200, hi = DiffLayout.DataSize - 0x200;
        int src = rng.Range(lo, hi);
        int dst = rng.Chance(0.25) ? Math.Clamp(src + rng.Range(-16, 16), lo, hi) : rng.Range(lo, hi);
        if (rng.Chance(0.5))
        {
            src &= ~(size - 1);
            dst &= ~(size - 1);
        }
        s.Gprs[Rsi] = DiffLayout.DataBase + (ulong)src;
        s.Gprs[Rdi] = DiffLayout.DataBase + (ulong)dst;

        if (compare)
        {
            // Equal runs with an occasional difference so REPE/REPNE stop at varied points.
            int n = Math.Max(count, 1);
            bool scas = ins.Mnemonic is Mnemonic.Scasb or Mnemonic.Scasw or Mnemonic.Scasd or Mnemonic.Scasq;
            ulong accumulator = rng.Edge(size * 8);
            if (scas)
                b.SetRegister(size switch { 1 => Register.AL, 2 => Register.AX, 4 => Register.EAX, _ => Register.RAX }, accumulator);
            for (int i = 0; i < n; i++)
            {
                int step = down ? -i * size : i * size;
                ulong value = scas ? accumulator : b.ReadData(DiffLayout.DataBase + (ulong)(src + step), size);
                if (rng.Chance(scas && rep == RepPrefixKind.Repne ? 0.15 : 0.8))
                    b.WriteData(DiffLayout.DataBase + (ulong)(dst + step), size, value);
            }
        }
        return ins;
    }
}
