using Orleans.Streams;
using Xunit;

namespace Actors.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class MigrationTests(ClusterFixture fixture)
{
    private const ulong Memory = 64UL << 20;

    private static readonly MigrationOptions Options = MigrationOptions.Default;

    /// <summary>fw_cfg for migrate-verify: run until 'q' arrives on the console.</summary>
    internal static Dictionary<string, string> UntilQuit => new() { ["opt/actors/passes"] = "0" };

    [Fact]
    public async Task A_running_migrate_verify_guest_moves_back_and_forth_and_finds_no_page_lost()
    {
        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>("mv");
        var console = new ConsoleRecorder();
        StreamSubscriptionHandle<ConsoleOutput> subscription = await fixture.Client.GetStreamProvider(ConsoleStreams.Provider)
            .GetStream<ConsoleOutput>(StreamId.Create(ConsoleStreams.Namespace, "mv")).SubscribeAsync(console.OnNextAsync);
        string image = await ImageUploader.UploadAsync(fixture.Client, Guests.Image("migrate-verify"));
        // passes=0: the guest stamps and verifies until it reads 'q', so it outlasts every migration.
        await vm.CreateAsync(new VmConfiguration(image, Memory, 1, "host-1", "migrate-verify", UntilQuit));
        await vm.StartAsync();

        string host = "host-1";
        ulong retired = 0;
        int moves = 0;
        foreach (string target in new[] { "host-2", "host-1", "host-2" })
        {
            VmStatus before = await vm.GetStatusAsync();
            Assert.Equal(VmState.Running, before.State);
            Assert.True(before.InstructionsRetired >= retired, "the instruction counter continues across hosts");
            retired = before.InstructionsRetired;

            string id = await vm.MigrateAsync(target, Options);
            MigrationStatus done = await Poll.UntilAsync(() => fixture.Client.GetGrain<IMigrationGrain>(id).GetStatusAsync(), s => s.Ended, $"migration {id}");

            Assert.True(done.State == MigrationState.Completed, $"migration {id}: {done.State} {done.Reason}");
            Assert.Equal(host, done.Source);
            Assert.Equal(target, done.Target);
            Assert.True(done.Pass >= 1);
            Assert.True(done.BytesSent > 0);
            Assert.NotNull(done.Downtime);
            VmStatus after = await vm.GetStatusAsync();
            Assert.True(after.State is VmState.Running or VmState.Off, $"after migration {id} the VM is {after.State}: {after.FailureReason}");
            if (after.State == VmState.Running)
            {
                Assert.Equal(target, after.Host);
                // The VM's grains follow it: Orleans moves them once idle.
                var processor = fixture.Client.GetGrain<IVirtualProcessorGrain>(VirtualProcessorKey.Format("mv", 0));
                await Poll.UntilAsync(() => Task.FromResult(fixture.SiloOf(vm)), s => fixture.SiloOfHost(target).Equals(s), $"the partition to move to {target}");
                await Poll.UntilAsync(() => Task.FromResult(fixture.SiloOf(processor)), s => fixture.SiloOfHost(target).Equals(s), $"vCPU 0 to move to {target}");
                Assert.Contains("mv", (await fixture.Client.GetGrain<IHwBackendGrain>(target).GetInfoAsync()).RunningVms);
                Assert.DoesNotContain("mv", (await fixture.Client.GetGrain<IHwBackendGrain>(host).GetInfoAsync()).RunningVms);
            }

            host = target;
            moves++;
        }

        Assert.Equal(3, moves);

        await vm.SendConsoleInputAsync("q"u8.ToArray());
        VmStatus ended = await Poll.UntilAsync(vm.GetStatusAsync, s => s.State != VmState.Running, "migrate-verify to finish", TimeSpan.FromMinutes(3));
        Assert.True(ended.State == VmState.Off, $"{ended.State}: {ended.FailureReason}");
        // Exit status 1 is the guest's own verdict: every page held the stamp of the last pass.
        Assert.Equal(Guests.ExpectedStatus("migrate-verify"), ended.ExitStatus);

        Assert.Contains(await fixture.Client.GetGrain<IMigrationCatalogGrain>(0).ListAsync(), m => m.Vm == "mv" && m.State == MigrationState.Completed);

        // One subscription, attached once before the first host, saw the whole output, in order, from three hosts.
        string text = await Poll.UntilAsync(() => Task.FromResult(console.Text), t => t.Length >= ended.ConsoleBytes, "the console output");
        Assert.StartsWith("migrate-verify: stamping all RAM from 4 MiB up", text);
        Assert.Matches(@"\nmigrate-verify: [0-9]+ passes ok\n$", text);
        Assert.DoesNotContain("FAIL", text);
        Assert.Equal(ended.ConsoleBytes, text.Length);
        Assert.Empty(console.Gaps);
        await subscription.UnsubscribeAsync();
    }

    [Fact]
    public async Task Two_VMs_migrating_in_opposite_directions_both_complete_while_a_bystander_on_each_host_answers_within_a_second()
    {
        string image = await ImageUploader.UploadAsync(fixture.Client, Guests.Image("migrate-verify"));
        IPartitionGrain eastbound = await StartUntilQuitAsync("cross-east", image, "host-1", Memory);
        IPartitionGrain westbound = await StartUntilQuitAsync("cross-west", image, "host-2", Memory);
        IPartitionGrain[] bystanders = [await StartUntilQuitAsync("bystander-1", image, "host-1", 16UL << 20), await StartUntilQuitAsync("bystander-2", image, "host-2", 16UL << 20)];
        try
        {
            // A bandwidth cap makes each pass last seconds, so the bystanders are asked while both copy.
            MigrationOptions slow = Options with { MaxBandwidthBytesPerSecond = 24L << 20 };
            IMigrationGrain east = fixture.Client.GetGrain<IMigrationGrain>(await eastbound.MigrateAsync("host-2", slow));
            IMigrationGrain west = fixture.Client.GetGrain<IMigrationGrain>(await westbound.MigrateAsync("host-1", slow));

            int roundsWhileBothCopied = 0;
            while (true)
            {
                bool bothCopyingBefore = !(await east.GetStatusAsync()).Ended && !(await west.GetStatusAsync()).Ended;
                foreach (IPartitionGrain bystander in bystanders)
                {
                    await WithinASecondAsync(bystander.GetStatusAsync, "vm show");
                    await WithinASecondAsync(bystander.PauseAsync, "vm pause");
                    await WithinASecondAsync(bystander.ResumeAsync, "vm resume");
                }

                bool bothCopyingAfter = !(await east.GetStatusAsync()).Ended && !(await west.GetStatusAsync()).Ended;
                if (bothCopyingBefore && bothCopyingAfter)
                    roundsWhileBothCopied++;
                if (!bothCopyingAfter)
                    break;
            }

            Assert.True(roundsWhileBothCopied >= 1, "the bystanders were asked while both migrations copied");
            foreach ((IMigrationGrain migration, IPartitionGrain vm, string target) in new[] { (east, eastbound, "host-2"), (west, westbound, "host-1") })
            {
                MigrationStatus done = await Poll.UntilAsync(migration.GetStatusAsync, s => s.Ended, "both migrations", TimeSpan.FromMinutes(2));
                Assert.True(done.State == MigrationState.Completed, $"{done.Vm}: {done.State} {done.Reason}");
                VmStatus status = await vm.GetStatusAsync();
                Assert.Equal((VmState.Running, target), (status.State, status.Host));
            }

            foreach (IPartitionGrain vm in bystanders.Append(eastbound).Append(westbound))
                await QuitAndCheckAsync(vm);
        }
        finally
        {
            // Cleanup must not hide why the test failed: a VM still migrating is stopped once its migration ends.
            foreach (IPartitionGrain vm in bystanders.Append(eastbound).Append(westbound))
                await StopQuietlyAsync(vm);
        }
    }

    private static async Task StopQuietlyAsync(IPartitionGrain vm)
    {
        for (int attempt = 0; attempt < 60; attempt++)
        {
            try
            {
                if ((await vm.GetStatusAsync()).State is VmState.Running or VmState.Paused)
                    await vm.StopAsync();
                return;
            }
            catch (HypervisorException)
            {
                await Task.Delay(500);
            }
        }
    }

    private async Task<IPartitionGrain> StartUntilQuitAsync(string name, string image, string host, ulong memory)
    {
        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>(name);
        await vm.CreateAsync(new VmConfiguration(image, memory, 1, host, "migrate-verify", UntilQuit));
        await vm.StartAsync();
        return vm;
    }

    /// <summary>Ends a migrate-verify guest with 'q' and checks its own verdict on its memory.</summary>
    private static async Task QuitAndCheckAsync(IPartitionGrain vm)
    {
        await vm.SendConsoleInputAsync("q"u8.ToArray());
        VmStatus ended = await Poll.UntilAsync(vm.GetStatusAsync, s => s.State != VmState.Running, "migrate-verify to finish", TimeSpan.FromMinutes(3));
        Assert.True(ended.State == VmState.Off, $"{ended.Name}: {ended.State}: {ended.FailureReason}");
        Assert.Equal(Guests.ExpectedStatus("migrate-verify"), ended.ExitStatus);
    }

    private static async Task WithinASecondAsync<T>(Func<Task<T>> call, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await call();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"{what} took {clock.Elapsed.TotalMilliseconds:F0} ms while two migrations ran");
    }

    [Fact]
    public async Task Migrations_that_cannot_work_are_refused_with_one_line()
    {
        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>("mv-refused");
        string image = await ImageUploader.UploadAsync(fixture.Client, Guests.Image("migrate-verify"));
        await vm.CreateAsync(new VmConfiguration(image, Memory, 1, "host-0", "migrate-verify"));

        Assert.Contains("it is Defined, not Running", (await Assert.ThrowsAsync<HypervisorException>(() => vm.MigrateAsync("host-1", Options))).Message);
        await vm.StartAsync();
        try
        {
            Assert.Equal("VM 'mv-refused' already runs on host 'host-0'", (await Assert.ThrowsAsync<HypervisorException>(() => vm.MigrateAsync("host-0", Options))).Message);
            Assert.Contains("no host 'host-9' in the cluster", (await Assert.ThrowsAsync<HypervisorException>(() => vm.MigrateAsync("host-9", Options))).Message);
            Assert.Contains("maximum downtime", (await Assert.ThrowsAsync<HypervisorException>(() => vm.MigrateAsync("host-1", Options with { MaxDowntime = TimeSpan.Zero }))).Message);

            string id = await vm.MigrateAsync("host-1", Options);
            var second = await Assert.ThrowsAsync<HypervisorException>(() => vm.MigrateAsync("host-2", Options));
            Assert.True(second.Message.Contains("already migrating", StringComparison.Ordinal) || second.Message.Contains("not Running", StringComparison.Ordinal), second.Message);
            await Poll.UntilAsync(() => fixture.Client.GetGrain<IMigrationGrain>(id).GetStatusAsync(), s => s.Ended, $"migration {id}");
        }
        finally
        {
            if ((await vm.GetStatusAsync()).State == VmState.Running)
                await vm.StopAsync();
        }
    }
}
