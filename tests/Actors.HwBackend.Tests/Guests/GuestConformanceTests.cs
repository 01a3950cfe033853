using System.Text;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Runner;
using Xunit;

namespace Actors.HwBackend.Tests.Guests;

/// <summary>
/// Every image in guests/ gives the expected serial output and exit status on the software CPU, and
/// QEMU (TCG) gives the same: the expected files are the contract both must meet. So does every run of
/// an image with fw_cfg options (the Makefile's RUNS), on the software CPU with the whole platform.
/// </summary>
public sealed class GuestConformanceTests
{
    public static TheoryData<string> Images => new(GuestImages.All);

    public static TheoryData<string> Runs => new(GuestImages.Runs.Select(r => r.Name));

    public static TheoryData<string, CpuTier> ImagesOnBothTiers => OnBothTiers(GuestImages.All);

    public static TheoryData<string, CpuTier> RunsOnBothTiers => OnBothTiers(GuestImages.Runs.Select(r => r.Name));

    private static TheoryData<string, CpuTier> OnBothTiers(IEnumerable<string> names)
    {
        var data = new TheoryData<string, CpuTier>();
        foreach (string name in names)
        {
            data.Add(name, CpuTier.Interpreter);
            data.Add(name, CpuTier.Translator);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ImagesOnBothTiers))]
    public void Guest_runs_on_the_software_cpu_to_its_expected_output_and_status(string name, CpuTier tier)
    {
        var (result, output) = GuestImages.RunOnEmulator(name, tier: tier);

        Assert.True(result.Outcome == GuestRunOutcome.DebugExit, $"{name} ended with {result.Outcome}: {result.Message}\n{Encoding.ASCII.GetString(output)}");
        Assert.Equal(Encoding.ASCII.GetString(GuestImages.ExpectedOutput(name)), Encoding.ASCII.GetString(output));
        Assert.Equal(GuestImages.ExpectedStatus(name), result.ExitStatus);
        Assert.True(result.InstructionsRetired > 0);
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Guest_under_qemu_gives_the_same_output_and_status(string name)
    {
        var (status, output) = GuestImages.RunOnQemu(name);

        Assert.Equal(Encoding.ASCII.GetString(GuestImages.ExpectedOutput(name)), Encoding.ASCII.GetString(output));
        Assert.Equal(GuestImages.ExpectedStatus(name), status);
    }

    [Theory]
    [MemberData(nameof(RunsOnBothTiers))]
    public void Guest_run_with_fw_cfg_options_on_the_software_cpu_gives_its_expected_output_and_status(string name, CpuTier tier)
    {
        var (ended, output) = GuestImages.RunOnPlatform(GuestImages.Run(name), tier);

        Assert.True(ended.Reason == "debug-exit", $"{name} ended with {ended.Reason}\n{Encoding.ASCII.GetString(output)}");
        Assert.Equal(Encoding.ASCII.GetString(GuestImages.ExpectedOutput(name)), Encoding.ASCII.GetString(output));
        Assert.Equal(GuestImages.ExpectedStatus(name), ended.ExitStatus);
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void Guest_run_with_fw_cfg_options_under_qemu_gives_its_expected_output_and_status(string name)
    {
        var (status, output) = GuestImages.RunOnQemu(GuestImages.Run(name));

        Assert.Equal(Encoding.ASCII.GetString(GuestImages.ExpectedOutput(name)), Encoding.ASCII.GetString(output));
        Assert.Equal(GuestImages.ExpectedStatus(name), status);
    }
}
