using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Tests.Emulation;
using Xunit;
using Xunit.Abstractions;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// Host CPU versus software CPU, one test per instruction family so a failure names the area.
/// All in one class: xunit runs one class's tests one after another, and the host executor's
/// fixed-address mappings are process-wide.
/// </summary>
public sealed class DifferentialTests(ITestOutputHelper output)
{
    /// <summary>Each family on both tiers of the software CPU: interpreted, and translated from the first run of every block.</summary>
    private void Check(Family family)
    {
        foreach (CpuTier tier in new[] { CpuTier.Interpreter, CpuTier.Translator })
        {
            var report = DifferentialRunner.Run(family, tier: TestTiers.For(tier));
            output.WriteLine($"{CpuTierOptions.Name(tier)}: {report}");
            Assert.True(report.Passed, $"{CpuTierOptions.Name(tier)}: {report}");
            Assert.Equal(tier == CpuTier.Translator, report.RegionsTranslated >= report.Cases);
        }
    }

    [Fact] public void MovLea() => Check(IntegerFamilies.MovLea);
    [Fact] public void AddAdcSubSbb() => Check(IntegerFamilies.AddSub);
    [Fact] public void AndOrXor() => Check(IntegerFamilies.Logic);
    [Fact] public void CmpTest() => Check(IntegerFamilies.CmpTest);
    [Fact] public void IncDecNegNot() => Check(IntegerFamilies.IncDecNegNot);
    [Fact] public void ShlShrSar() => Check(IntegerFamilies.Shifts);
    [Fact] public void RolRor() => Check(IntegerFamilies.RolRor);
    [Fact] public void RclRcr() => Check(IntegerFamilies.RclRcr);
    [Fact] public void ShldShrd() => Check(IntegerFamilies.ShldShrd);
    [Fact] public void MulImul() => Check(IntegerFamilies.MulImul);
    [Fact] public void DivIdiv() => Check(IntegerFamilies.DivIdiv);
    [Fact] public void SignExtend() => Check(IntegerFamilies.SignExtend);
    [Fact] public void BitTest() => Check(IntegerFamilies.BitTest);
    [Fact] public void BitScan() => Check(IntegerFamilies.BitScan);
    [Fact] public void Bswap() => Check(IntegerFamilies.Bswap);
    [Fact] public void Cmovcc() => Check(IntegerFamilies.Cmovcc);
    [Fact] public void Setcc() => Check(IntegerFamilies.Setcc);
    [Fact] public void XchgXaddCmpxchg() => Check(IntegerFamilies.XchgXaddCmpxchg);
    [Fact] public void Cmpxchg8b16b() => Check(IntegerFamilies.Cmpxchg16b);
    [Fact] public void PushPopLeave() => Check(IntegerFamilies.PushPop);
    [Fact] public void FlagOps() => Check(IntegerFamilies.FlagOps);
    [Fact] public void NopPauseEndbrPrefetchFence() => Check(IntegerFamilies.NopsHints);
    [Fact] public void JccJmpCallRetLoop() => Check(ControlFlowFamilies.Branches);
    [Fact] public void PrefixedNopsAndBranches() => Check(PrefixFamilies.PrefixedNopsAndBranches);
    [Fact] public void MovsStosLods() => Check(StringFamilies.MovsStosLods);
    [Fact] public void CmpsScas() => Check(StringFamilies.CmpsScas);
    [Fact] public void SseMoves() => Check(SseFamilies.Moves);
    [Fact] public void SseScalarArith() => Check(SseFamilies.ScalarArith);
    [Fact] public void SsePackedArith() => Check(SseFamilies.PackedArith);
    [Fact] public void SseConvert() => Check(SseFamilies.Convert);
    [Fact] public void SseCompare() => Check(SseFamilies.Compare);
    [Fact] public void SseLogic() => Check(SseFamilies.Logic);
    [Fact] public void SseIntArith() => Check(SseFamilies.IntArith);
    [Fact] public void SseIntSaturateMulPack() => Check(SseFamilies.IntExtra);
    [Fact] public void SseShuffleUnpack() => Check(SseFamilies.Shuffle);
    [Fact] public void SseShift() => Check(SseFamilies.Shift);
    [Fact] public void SseMaskInsertExtract() => Check(SseFamilies.Misc);
    [Fact] public void SseRoundingDazFtz() => Check(SseFamilies.FpControls);
}
