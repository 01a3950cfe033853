using System.Diagnostics;
using System.Globalization;
using System.Text;
using Actors.HwBackend.Emulation.Tiers;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>Runs a family's cases on the host and on the emulator and collects the differences per form.</summary>
internal static class DifferentialRunner
{
    private const int MaxExamples = 12;

    /// <summary>Base seed; ACTORS_DIFF_SEED varies it (the default keeps runs reproducible).</summary>
    public static ulong Seed { get; } =
        ulong.TryParse(Environment.GetEnvironmentVariable("ACTORS_DIFF_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : 1;

    /// <summary>Multiplies every family's case count; ACTORS_DIFF_SCALE=10 for a long soak.</summary>
    public static double Scale { get; } =
        double.TryParse(Environment.GetEnvironmentVariable("ACTORS_DIFF_SCALE"), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0 ? d : 1.0;

    public static FamilyReport Run(Family family, int? cases = null, CpuTierOptions? tier = null)
    {
        int n = cases ?? Math.Max(1, (int)(family.Cases * Scale));
        var report = new FamilyReport(family.Name, Seed);
        var total = Stopwatch.StartNew();
        EmulatorExecutor? emu;
        try
        {
            emu = new EmulatorExecutor(tier);
        }
        catch (Exception ex)
        {
            report.SetupError = $"cannot create the emulator machine: {ex.GetType().Name}: {ex.Message}";
            return report;
        }

        var generator = new CaseGenerator(family, Seed);
        var native = NativeExecutor.Instance;
        var nativeOut = new RegisterState();
        var emuOut = new RegisterState();
        var nativeData = new byte[DiffLayout.DataSize];
        var emuData = new byte[DiffLayout.DataSize];
        try
        {
            for (int i = 0; i < n; i++)
            {
                var c = generator.Next();
                c.GuestCodeAddress = GuestAddressFor(c, i);
                native.Run(c.Code, c.Input, c.Data, nativeOut, nativeData);
                string? diff;
                try
                {
                    var outcome = emu.Run(c.Code, c.Input, c.Data, emuOut, emuData, c.GuestCodeAddress);
                    diff = CaseComparer.Compare(c, nativeOut, nativeData, outcome, emuOut, emuData);
                }
                catch (Exception ex)
                {
                    var frame = ex.StackTrace?.Split('\n').FirstOrDefault()?.Trim();
                    diff = $"    emulator threw {ex.GetType().Name}: {ex.Message}{(frame is null ? "" : $"\n      {frame}")}\n";
                    // The machine may be left in any state: start over with a fresh one.
                    report.RegionsTranslated += emu.RegionsTranslated;
                    emu.Dispose();
                    emu = new EmulatorExecutor(tier);
                }
                report.Record(c, i, diff);
            }
        }
        finally
        {
            report.RegionsTranslated += emu.RegionsTranslated;
            emu.Dispose();
        }
        report.Elapsed = total.Elapsed;
        return report;
    }

    /// <summary>
    /// One in eight cases whose meaning does not depend on RIP runs in the guest across the boundary
    /// of two code pages (instruction fetch, decode and code-write invalidation over two pages).
    /// </summary>
    private static ulong GuestAddressFor(DiffCase c, int index)
    {
        var ins = c.Instruction;
        bool ripIndependent = !ins.IsIPRelativeMemoryOperand && ins.FlowControl == Iced.Intel.FlowControl.Next && ins.Length == c.Code.Length;
        if (!ripIndependent || c.Code.Length < 2 || (uint)(index * 2654435761u) % 8 != 0)
            return DiffLayout.CodeAddress;
        int before = 1 + index % (c.Code.Length - 1);
        return DiffLayout.NativeThunk + 0x1000 - (ulong)before;
    }

    /// <summary>Host-only run: every case twice, expecting identical results (checks generator and executor).</summary>
    public static int RunNativeOnly(Family family, int cases)
    {
        var generator = new CaseGenerator(family, Seed);
        var native = NativeExecutor.Instance;
        var out1 = new RegisterState();
        var out2 = new RegisterState();
        var data1 = new byte[DiffLayout.DataSize];
        var data2 = new byte[DiffLayout.DataSize];
        for (int i = 0; i < cases; i++)
        {
            var c = generator.Next();
            native.Run(c.Code, c.Input, c.Data, out1, data1);
            native.Run(c.Code, c.Input, c.Data, out2, data2);
            if (!out1.Gprs.AsSpan().SequenceEqual(out2.Gprs) || out1.Rflags != out2.Rflags
                || !out1.Xmm.AsSpan().SequenceEqual(out2.Xmm) || out1.Mxcsr != out2.Mxcsr || !data1.AsSpan().SequenceEqual(data2))
                throw new InvalidOperationException($"native run not repeatable:\n{CaseComparer.Describe(c)}");
            if (out1.Gprs[4] != c.Input.Gprs[4] && !c.Instruction.IsStackInstruction)
                throw new InvalidOperationException($"native run changed RSP:\n{CaseComparer.Describe(c)}");
        }
        return cases;
    }

    internal sealed class FamilyReport(string name, ulong seed)
    {
        private readonly Dictionary<string, FormStats> _forms = [];

        public string Name { get; } = name;
        public int Cases { get; private set; }
        public int Failures { get; private set; }
        public string? SetupError { get; set; }
        public TimeSpan Elapsed { get; set; }

        /// <summary>Blocks the translating tier compiled over the run (0 when interpreted), summed over machines.</summary>
        public long RegionsTranslated { get; set; }

        public bool Passed => SetupError is null && Failures == 0;

        public void Record(DiffCase c, int index, string? diff)
        {
            Cases++;
            var ins = c.Instruction;
            var key = new StringBuilder(ins.Code.ToString());
            if (ins.HasRepePrefix) key.Append(" rep/repe");
            if (ins.HasRepnePrefix) key.Append(" repne");
            if (ins.HasLockPrefix) key.Append(" lock");
            if (c.MemoryOperands.Count > 0 && !ins.IsStringInstruction && !ins.IsStackInstruction) key.Append(" (mem)");
            string k = key.ToString();
            if (!_forms.TryGetValue(k, out var entry))
                _forms[k] = entry = new FormStats();
            entry.Cases++;
            if (diff is not null)
            {
                Failures++;
                entry.Failures++;
                entry.Example ??= $"  case #{index}:\n" + CaseComparer.Describe(c) + diff;
                foreach (var tag in Tags(diff))
                    entry.Kinds[tag] = entry.Kinds.GetValueOrDefault(tag) + 1;
            }
        }

        /// <summary>What differed, from the comparer's lines ("    rax: ...", "    xmm3: ...", "    exit: ...").</summary>
        private static HashSet<string> Tags(string diff)
        {
            var tags = new HashSet<string>();
            foreach (var line in diff.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var t = line.TrimStart();
                if (line.Length - t.Length != 4)
                    continue;
                int colon = t.IndexOfAny([':', ' ']);
                string word = colon < 0 ? t : t[..colon];
                tags.Add(word switch
                {
                    _ when Array.IndexOf(RegisterState.GprNames, word) >= 0 => "gpr",
                    _ when word.StartsWith("xmm", StringComparison.Ordinal) => "xmm",
                    "exit" when t.Contains("#UD", StringComparison.Ordinal) => "#UD",
                    "exit" when t.Contains("guest raised", StringComparison.Ordinal) => "fault",
                    "emulator" => "threw",
                    _ => word,
                });
            }
            return tags;
        }

        private sealed class FormStats
        {
            public int Cases { get; set; }
            public int Failures { get; set; }
            public string? Example { get; set; }
            public Dictionary<string, int> Kinds { get; } = [];
        }

        public override string ToString()
        {
            var sb = new StringBuilder();
            if (SetupError is not null)
                return $"{Name}: {SetupError}";
            var failed = _forms.Where(f => f.Value.Failures > 0).OrderBy(f => f.Key, StringComparer.Ordinal).ToList();
            sb.AppendLine($"{Name}: {Cases} cases, {Failures} failed in {failed.Count} of {_forms.Count} forms " +
                $"(seed {seed}, {Elapsed.TotalSeconds:F1} s)");
            if (failed.Count == 0)
                return sb.ToString();
            sb.AppendLine("  failing forms (failed/run [what differed]):");
            foreach (var f in failed)
            {
                var kinds = string.Join(", ", f.Value.Kinds.OrderByDescending(x => x.Value).Select(x => $"{x.Key} {x.Value}"));
                sb.AppendLine($"    {f.Key} {f.Value.Failures}/{f.Value.Cases} [{kinds}]");
            }
            sb.AppendLine($"First failure of each form (up to {MaxExamples}):");
            foreach (var f in failed.Take(MaxExamples))
                sb.Append(f.Value.Example);
            return sb.ToString();
        }
    }
}
