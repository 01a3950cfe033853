using System.Text;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Runner;
using Xunit;

namespace Actors.HwBackend.Tests.Guests;

/// <summary>
/// Every image in guests/ gives the expected serial output and exit status on the software CPU, and
/// QEMU (TCG) gives the same: the expected files are the contract both must meet.
/// </summary>
public sealed class GuestConformanceTests
{
    public static TheoryData<string> Images => new(GuestImages.All);

    public static TheoryData<string, CpuTier> ImagesOnBothTiers
    {
        get
        {
            var data = new TheoryData<string, CpuTier>();
            foreach (string name in GuestImages.All)
            {
                data.Add(name, CpuTier.Interpreter);
                data.Add(name, CpuTier.Translator);
            }

            return data;
        }
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
}
