using Xunit;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// Host-only checks of the generator: every family's cases encode, stay inside the data window,
/// never fault and give repeatable results. Independent of the emulator.
/// </summary>
public sealed class GeneratorSelfTests
{
    public static TheoryData<string> FamilyNames()
    {
        var data = new TheoryData<string>();
        foreach (var f in AllFamilies.List)
            data.Add(f.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(FamilyNames))]
    public void CasesRunNativelyAndRepeatably(string family)
    {
        var f = AllFamilies.List.Single(x => x.Name == family);
        Assert.Equal(300, DifferentialRunner.RunNativeOnly(f, 300));
    }

    [Fact]
    public void EveryFamilyHasForms()
    {
        foreach (var f in AllFamilies.List)
            Assert.True(f.Custom is not null || f.CustomRaw is not null || f.Codes.Count > 0, f.Name);
    }
}
