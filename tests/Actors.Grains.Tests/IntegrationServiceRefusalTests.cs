using Xunit;

namespace Actors.Grains.Tests;

/// <summary>
/// Asking a guest's integration services for what they cannot give is refused in one line that says
/// why: a VM that does not see Hyper-V, a guest that never opened the channel (here our compute
/// guest, which knows nothing of VMBus), or a VM that is not running. Stock Linux's own answers are
/// tested in <see cref="LinuxMigrationTests"/> and the hvctl tests.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class IntegrationServiceRefusalTests(ClusterFixture fixture)
{
    private async Task<IPartitionGrain> StartComputeAsync(string name, bool enlightened)
    {
        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>(name);
        string image = await ImageUploader.UploadAsync(fixture.Client, Guests.Image("compute"));
        await vm.CreateAsync(new VmConfiguration(image, 16UL << 20, 1, "host-1", "compute", Enlightened: enlightened));
        await vm.StartAsync();
        return vm;
    }

    [Fact]
    public async Task A_VM_without_Hyper_V_or_a_guest_without_the_driver_is_refused_with_the_reason()
    {
        IPartitionGrain plain = await StartComputeAsync("ic-plain", enlightened: false);
        IPartitionGrain enlightened = await StartComputeAsync("ic-no-driver", enlightened: true);
        try
        {
            Assert.Equal(
                "VM 'ic-plain' cannot be asked to shut down: it has no integration services (create it with --hyperv); 'hvctl vm stop' turns it off",
                (await Assert.ThrowsAsync<HypervisorException>(() => plain.ShutdownAsync(GuestShutdownKind.PowerOff))).Message);
            Assert.Contains("has no integration services", (await Assert.ThrowsAsync<HypervisorException>(() => plain.SetGuestValueAsync("k", "v"))).Message);

            Assert.Equal(
                "VM 'ic-no-driver' cannot be asked to restart: the guest has not opened its shutdown channel (it needs Hyper-V's utility driver, Linux's hv_utils); 'hvctl vm stop' turns it off",
                (await Assert.ThrowsAsync<HypervisorException>(() => enlightened.ShutdownAsync(GuestShutdownKind.Restart))).Message);
            VmStatus status = await enlightened.GetStatusAsync();
            Assert.Equal(VmState.Running, status.State); // a refused restart left it alone
            Assert.Contains("shutdown: no channel (the guest has not opened it)", status.IntegrationServices!);
            // A pair for a guest that is not listening waits for it, up to a bound; a key too long is refused.
            await enlightened.SetGuestValueAsync("waiting", "for a daemon");
            Assert.Contains("'ic-no-driver'", (await Assert.ThrowsAsync<HypervisorException>(() => enlightened.SetGuestValueAsync(new string('k', 300), "v"))).Message);

            await plain.StopAsync();
            Assert.Equal(
                "VM 'ic-plain' is Off; only a Running guest's integration services can be asked",
                (await Assert.ThrowsAsync<HypervisorException>(() => plain.ShutdownAsync(GuestShutdownKind.PowerOff))).Message);
        }
        finally
        {
            foreach (IPartitionGrain vm in new[] { plain, enlightened })
            {
                if ((await vm.GetStatusAsync()).State is VmState.Running or VmState.Paused)
                    await vm.StopAsync();
            }
        }
    }
}
