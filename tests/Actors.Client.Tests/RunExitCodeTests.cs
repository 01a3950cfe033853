using Actors.Grains;
using Actors.Hvctl;

namespace Actors.Client.Tests;

/// <summary>How 'hvctl run' turns the way a guest ended into its exit code: only the guest's own statuses may look like a pass.</summary>
public sealed class RunExitCodeTests
{
    [Theory]
    [InlineData(VmState.Off, 0, "acpi-poweroff", null, 0)]
    [InlineData(VmState.Off, 1, "debug-exit", null, 1)]
    [InlineData(VmState.Off, 7, "debug-exit", null, 7)]
    [InlineData(VmState.Off, null, "reset: port 0xCF9 hard reset", null, 4)]
    [InlineData(VmState.Failed, null, "triple fault", "triple fault", 6)]
    [InlineData(VmState.Off, null, null, null, 8)]
    public void Each_ending_has_its_own_code(VmState state, int? exitStatus, string? endReason, string? failure, int expected)
    {
        var status = new VmStatus("g", state, new VmConfiguration("id", 1 << 20, 1, null), null, failure, exitStatus, 0, 0, null, endReason);
        var error = new StringWriter();

        Assert.Equal(expected, GuestRun.ExitCodeFor(status, error));
        Assert.Equal(exitStatus is null ? 1 : 0, error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
