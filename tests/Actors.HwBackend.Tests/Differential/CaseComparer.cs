using System.Text;
using Actors.HwBackend.Abstractions;
using Iced.Intel;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>Compares host and emulator results of one case and describes the case and its differences.</summary>
internal static class CaseComparer
{
    private static readonly NasmFormatter Formatter = CreateFormatter();

    private static NasmFormatter CreateFormatter()
    {
        var f = new NasmFormatter();
        f.Options.HexPrefix = "0x";
        f.Options.HexSuffix = null;
        f.Options.UppercaseHex = false;
        f.Options.ShowBranchSize = false;
        return f;
    }

    public static string Disassemble(in Instruction ins)
    {
        var output = new StringOutput();
        Formatter.Format(ins, output);
        return output.ToStringAndReset();
    }

    /// <summary>Null when the defined outputs agree, else the differences (one per line).</summary>
    public static string? Compare(DiffCase c, RegisterState native, byte[] nativeData, EmulatorOutcome outcome, RegisterState emu, byte[] emuData)
    {
        var sb = new StringBuilder();
        ulong expectedRip = c.GuestCodeAddress + (ulong)c.Code.Length + 1;
        if (outcome.Vector >= 0)
        {
            string name = outcome.Vector switch
            {
                0 => "#DE",
                1 => "#DB",
                3 => "#BP",
                4 => "#OF",
                5 => "#BR",
                6 => "#UD",
                7 => "#NM",
                8 => "#DF",
                10 => "#TS",
                11 => "#NP",
                12 => "#SS",
                13 => "#GP",
                14 => "#PF",
                16 => "#MF",
                17 => "#AC",
                19 => "#XM",
                _ => "exception",
            };
            sb.AppendLine($"    exit: guest raised {name} (vector {outcome.Vector}, error code 0x{outcome.ErrorCode:x}) at rip 0x{outcome.FaultRip:x}{(outcome.Message is null ? "" : ", " + outcome.Message)}; the host ran it without a fault");
            return sb.ToString();
        }
        if (outcome.Reason != VpExitReason.Halt)
        {
            sb.Append($"    exit: {outcome.Reason} at rip 0x{outcome.Rip:x} (expected Halt after rip 0x{expectedRip:x})");
            if (outcome.Message is not null)
                sb.Append($": {outcome.Message}");
            sb.AppendLine();
            return sb.ToString();
        }
        if (outcome.Rip != expectedRip)
            sb.AppendLine($"    rip after hlt: emulator 0x{outcome.Rip:x}, expected 0x{expectedRip:x}");

        for (int i = 0; i < 16; i++)
        {
            if ((c.IgnoredGprs & (1 << i)) != 0)
                continue;
            if (native.Gprs[i] != emu.Gprs[i])
                sb.AppendLine($"    {RegisterState.GprNames[i]}: native 0x{native.Gprs[i]:x16}  emulator 0x{emu.Gprs[i]:x16}");
        }

        ulong flagDiff = (native.Rflags ^ emu.Rflags) & c.FlagsMask;
        if (flagDiff != 0)
        {
            sb.AppendLine($"    rflags: differ in [{DefinedOutputs.FlagNames(flagDiff)}]; native [{DefinedOutputs.FlagNames(native.Rflags & c.FlagsMask)}]  " +
                $"emulator [{DefinedOutputs.FlagNames(emu.Rflags & c.FlagsMask)}]  (compared [{DefinedOutputs.FlagNames(c.FlagsMask)}], input [{DefinedOutputs.FlagNames(c.Input.Rflags & DefinedOutputs.Compared)}])");
        }

        for (int r = 0; r < RegisterState.XmmCount; r++)
        {
            if (!native.Xmm.AsSpan(r * 16, 16).SequenceEqual(emu.Xmm.AsSpan(r * 16, 16)))
                sb.AppendLine($"    xmm{r}: native {native.XmmText(r)}  emulator {emu.XmmText(r)}");
        }
        if (native.Mxcsr != emu.Mxcsr)
            sb.AppendLine($"    mxcsr: native 0x{native.Mxcsr:x4}  emulator 0x{emu.Mxcsr:x4}");

        var (ignOff, ignLen) = c.IgnoredData;
        int first = -1, last = -1, count = 0;
        for (int i = 0; i < nativeData.Length; i++)
        {
            if (ignLen > 0 && i >= ignOff && i < ignOff + ignLen)
                continue;
            if (nativeData[i] != emuData[i])
            {
                if (first < 0)
                    first = i;
                last = i;
                count++;
            }
        }
        if (first >= 0)
        {
            int len = Math.Min(last - first + 1, 32);
            sb.AppendLine($"    memory: {count} byte(s) differ in 0x{DiffLayout.DataBase + (ulong)first:x}..0x{DiffLayout.DataBase + (ulong)last:x}; " +
                $"native {System.Convert.ToHexString(nativeData, first, len)}  emulator {System.Convert.ToHexString(emuData, first, len)}  " +
                $"input {System.Convert.ToHexString(c.Data, first, len)}");
        }
        return sb.Length == 0 ? null : sb.ToString();
    }

    /// <summary>The instruction and its inputs, enough to reproduce the case by hand.</summary>
    public static string Describe(DiffCase c)
    {
        var sb = new StringBuilder();
        var ins = c.Instruction;
        sb.AppendLine($"  {Disassemble(ins)}    [{System.Convert.ToHexString(c.Code)}]  ({ins.Code})");
        if (c.Note is not null)
            sb.AppendLine($"    note: {c.Note}");
        if (c.GuestCodeAddress != DiffLayout.CodeAddress)
            sb.AppendLine($"    guest code at 0x{c.GuestCodeAddress:x} (straddles a page boundary; the host runs it at 0x{DiffLayout.CodeAddress:x})");
        var s = c.Input;
        for (int row = 0; row < 4; row++)
        {
            sb.Append("    in:");
            for (int col = 0; col < 4; col++)
            {
                int i = row * 4 + col;
                sb.Append($" {RegisterState.GprNames[i],3}=0x{s.Gprs[i]:x16}");
            }
            sb.AppendLine();
        }
        sb.AppendLine($"    in: rflags=0x{s.Rflags:x} [{DefinedOutputs.FlagNames(s.Rflags & DefinedOutputs.Compared)}] mxcsr=0x{s.Mxcsr:x4}");

        var xmms = new SortedSet<int>();
        for (int i = 0; i < ins.OpCount; i++)
        {
            if (ins.GetOpKind(i) == OpKind.Register && ins.GetOpRegister(i).IsXMM())
                xmms.Add(ins.GetOpRegister(i) - Register.XMM0);
        }
        foreach (int r in xmms)
            sb.AppendLine($"    in: xmm{r}={s.XmmText(r)}");
        foreach (var (addr, size) in c.MemoryOperands)
        {
            int off = (int)(addr - DiffLayout.DataBase);
            int len = Math.Min(size, 32);
            sb.AppendLine($"    in: mem[0x{addr:x}] ({size} bytes, little-endian) = {System.Convert.ToHexString(c.Data, off, len)}");
        }
        if (ins.IsStringInstruction)
        {
            foreach (int reg in (ReadOnlySpan<int>)[6, 7])
            {
                int off = (int)(s.Gprs[reg] - DiffLayout.DataBase) - 16;
                if (off >= 0 && off + 48 <= c.Data.Length)
                    sb.AppendLine($"    in: mem[{RegisterState.GprNames[reg]}-16..+32] = {System.Convert.ToHexString(c.Data, off, 48)}");
            }
        }
        return sb.ToString();
    }
}
