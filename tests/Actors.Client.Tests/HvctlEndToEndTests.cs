using System.Diagnostics;
using System.Text.RegularExpressions;
using Actors.Tests.Shared;

namespace Actors.Client.Tests;

/// <summary>The real hvctl as a user runs it: a child process that embeds its own silos.</summary>
[Collection(SiloProcessCollection.Name)]
public sealed class HvctlEndToEndTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Run_prints_the_guest_console_and_exits_with_its_qemu_status()
    {
        ProcessResult r = await HvctlAsync("run", Guest("hello.elf"));

        Assert.Contains("Hello from an Actors guest!", r.Out);
        // The guest writes 0 to isa-debug-exit; QEMU reports (0 << 1) | 1.
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(string.Empty, r.Error.Trim());
    }

    [Fact]
    public async Task Demo_migrates_a_running_guest_between_two_hosts_while_its_console_streams()
    {
        ProcessResult r = await HvctlAsync("demo");

        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}; stderr: {r.Error}");
        // The console is one stream across the move: passes reported on host-a, the move, then passes on host-b,
        // each of which checked every page stamped before it.
        int before = r.Out.IndexOf("pass 3 ok", StringComparison.Ordinal);
        int moved = r.Out.IndexOf("demo: verify: now on host-b: total ", StringComparison.Ordinal);
        int finished = r.Out.IndexOf(" passes ok", StringComparison.Ordinal);
        Assert.True(before >= 0 && moved > before && finished > moved, r.Out);
        Assert.True(Regex.Count(r.Out[moved..], @"^pass \d+ ok$", RegexOptions.Multiline) >= 3, r.Out);
        Assert.Contains("verify  Off    host-b  64M     1", r.Out);
        Assert.Matches(@"verify-\d+ +verify +host-a +host-b +Completed", r.Out);
        Assert.Matches(@"demo: 'verify' moved from host-a to host-b while it ran; it was paused for [\d.]+ms", r.Out);
    }

    [Fact]
    public Task Commands_drive_a_separate_silo_process_through_its_gateway() => OnOneSiloAsync(async gateway =>
        {
            ProcessResult hosts = await HvctlAsync("host", "list", "--gateway", gateway);
            Assert.Equal(0, hosts.ExitCode);
            Assert.Contains("e2e-host", hosts.Out);

            ProcessResult create = await HvctlAsync("vm", "create", "e2e", "--image", Guest("hello.elf"), "--memory", "32M", "--gateway", gateway);
            Assert.Equal((0, "e2e: Defined"), (create.ExitCode, create.Out.Trim()));

            // A name is taken once: a second create is refused and changes nothing, unless asked to replace.
            ProcessResult again = await HvctlAsync("vm", "create", "e2e", "--image", Guest("hello.elf"), "--memory", "48M", "--gateway", gateway);
            // (Upload progress comes first on stderr.)
            Assert.Equal((3, "hvctl: VM 'e2e' already exists (Defined); delete it first or replace it"), (again.ExitCode, again.Error.Trim().Split('\n')[^1]));
            Assert.Contains("e2e   Defined  -     32M     1", (await HvctlAsync("vm", "list", "--gateway", gateway)).Out);
            ProcessResult replaced = await HvctlAsync("vm", "create", "e2e", "--image", Guest("hello.elf"), "--memory", "48M", "--replace", "--gateway", gateway);
            Assert.Equal((0, "e2e: Defined"), (replaced.ExitCode, replaced.Out.Trim()));

            ProcessResult list = await HvctlAsync("vm", "list", "--gateway", gateway);
            Assert.Contains("e2e   Defined  -     48M     1", list.Out);

            ProcessResult delete = await HvctlAsync("vm", "delete", "e2e", "--gateway", gateway);
            Assert.Equal(0, delete.ExitCode);

            ProcessResult unknown = await HvctlAsync("vm", "start", "e2e", "--gateway", gateway);
            Assert.Equal(1, unknown.ExitCode);
            Assert.Single(unknown.Error.Trim().Split('\n'));
            Assert.StartsWith("hvctl: ", unknown.Error);
            Assert.Contains("e2e", unknown.Error);

            ProcessResult run = await HvctlAsync("run", Guest("hello.elf"), "--gateway", gateway);
            Assert.Contains("Hello from an Actors guest!", run.Out);
            Assert.Equal(1, run.ExitCode);

            // A disk lives in the host's disk store until it is deleted; a name is taken once.
            ProcessResult disk = await HvctlAsync("disk", "create", "e2e-disk", "--size", "8M", "--gateway", gateway);
            Assert.Equal((0, "e2e-disk: 8M on e2e-host"), (disk.ExitCode, disk.Out.Trim()));
            Assert.True(File.Exists(Path.Combine(TestDiskDirectory, "e2e-host", "e2e-disk.img")));
            Assert.Matches(@"\ne2e-disk +8M +e2e-host +20\d\d-", (await HvctlAsync("disk", "list", "--gateway", gateway)).Out);
            ProcessResult diskAgain = await HvctlAsync("disk", "create", "e2e-disk", "--size", "8M", "--gateway", gateway);
            Assert.Equal(3, diskAgain.ExitCode);
            Assert.Equal("hvctl: disk 'e2e-disk' already exists", diskAgain.Error.Trim());
            ProcessResult withDisk = await HvctlAsync("vm", "create", "e2e-d", "--kernel", Guest("hello.elf"), "--hyperv", "--disk", "e2e-disk", "--gateway", gateway);
            Assert.Equal(0, withDisk.ExitCode);
            Assert.Matches(@"\ndisks: +e2e-disk\n", (await HvctlAsync("vm", "show", "e2e-d", "--gateway", gateway)).Out);
            // A VM that is not running gets and loses disks in its configuration only.
            ProcessResult detached = await HvctlAsync("disk", "detach", "e2e-disk", "e2e-d", "--gateway", gateway);
            Assert.Equal((0, "e2e-disk: detached from e2e-d"), (detached.ExitCode, detached.Out.Trim()));
            Assert.Matches(@"\ndisks: +-\n", (await HvctlAsync("vm", "show", "e2e-d", "--gateway", gateway)).Out);
            ProcessResult attached = await HvctlAsync("disk", "attach", "e2e-disk", "e2e-d", "--gateway", gateway);
            Assert.Equal((0, "e2e-disk: attached to e2e-d at LUN 0"), (attached.ExitCode, attached.Out.Trim()));
            ProcessResult twice = await HvctlAsync("disk", "attach", "e2e-disk", "e2e-d", "--gateway", gateway);
            Assert.Equal((1, "hvctl: disk 'e2e-disk' is already attached to VM 'e2e-d'"), (twice.ExitCode, twice.Error.Trim()));
            Assert.Equal(0, (await HvctlAsync("vm", "delete", "e2e-d", "--gateway", gateway)).ExitCode);
            Assert.Equal(0, (await HvctlAsync("disk", "delete", "e2e-disk", "--gateway", gateway)).ExitCode);

            // A disk over an image: the image goes to the image store, the host keeps a copy, the disk an overlay.
            string imageFile = Path.Combine(TestDiskDirectory, "base.raw");
            byte[] image = new byte[1 << 20];
            new Random(5).NextBytes(image);
            await File.WriteAllBytesAsync(imageFile, image);
            ProcessResult cow = await HvctlAsync("disk", "create", "e2e-cow", "--from", imageFile, "--gateway", gateway);
            Assert.Equal((0, "e2e-cow: 1M on e2e-host, over base.raw"), (cow.ExitCode, cow.Out.Trim()));
            string id = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(image));
            Assert.Matches($@"\ne2e-cow +1M +e2e-host +20\d\d-.* {id[..12]}\n", (await HvctlAsync("disk", "list", "--gateway", gateway)).Out);
            Assert.Equal(image, await File.ReadAllBytesAsync(Path.Combine(TestDiskDirectory, "e2e-host", ".base", id + ".img")));
            ProcessResult both = await HvctlAsync("disk", "create", "e2e-both", "--from", imageFile, "--size", "1M", "--gateway", gateway);
            Assert.Equal(2, both.ExitCode);
            Assert.Equal(0, (await HvctlAsync("disk", "delete", "e2e-cow", "--gateway", gateway)).ExitCode);
            Assert.False(File.Exists(Path.Combine(TestDiskDirectory, "e2e-host", "e2e-disk.img")));
        });

    [Fact]
    public Task Switch_commands_create_list_show_and_delete_switches_in_a_separate_silo_process() => OnOneSiloAsync(async gateway =>
        {
            ProcessResult create = await HvctlAsync("switch", "create", "e2e-lan", "--gateway", gateway);
            Assert.Equal((0, "e2e-lan: created"), (create.ExitCode, create.Out.Trim()));
            Assert.Equal(0, (await HvctlAsync("switch", "create", "e2e-dmz", "--gateway", gateway)).ExitCode);
            ProcessResult list = await HvctlAsync("switch", "list", "--gateway", gateway);
            Assert.Equal(0, list.ExitCode);
            Assert.Matches(@"^NAME +PORTS +CREATED\ne2e-dmz +0 +20\d\d-.*\ne2e-lan +0 +20\d\d-", list.Out);

            ProcessResult show = await HvctlAsync("switch", "show", "e2e-lan", "--gateway", gateway);
            Assert.Equal(0, show.ExitCode);
            Assert.Matches(@"^switch e2e-lan: created 20\d\d-.*, 0 ports, 0 frames dropped .*\nPORT +MAC +HOST +FRAMES IN +BYTES IN +FRAMES OUT +BYTES OUT +DROPPED\n$", show.Out);

            // Refusals are one line and exit 1; a command missing its name is a usage error, exit 2.
            ProcessResult again = await HvctlAsync("switch", "create", "e2e-lan", "--gateway", gateway);
            Assert.Equal((3, "hvctl: switch 'e2e-lan' already exists"), (again.ExitCode, again.Error.Trim()));
            ProcessResult badName = await HvctlAsync("switch", "create", "e2e lan", "--gateway", gateway);
            Assert.Equal((1, "hvctl: 'e2e lan' is not a switch name (1-64 letters, digits, '-', '_' and '.')"), (badName.ExitCode, badName.Error.Trim()));
            ProcessResult unknown = await HvctlAsync("switch", "show", "e2e-wan", "--gateway", gateway);
            Assert.Equal((1, "hvctl: no switch 'e2e-wan': see 'hvctl switch list'"), (unknown.ExitCode, unknown.Error.Trim()));
            ProcessResult noName = await HvctlAsync("switch", "delete", "--gateway", gateway);
            Assert.Equal(2, noName.ExitCode);
            Assert.Single(noName.Error.Trim().Split('\n'));

            ProcessResult delete = await HvctlAsync("switch", "delete", "e2e-lan", "--gateway", gateway);
            Assert.Equal((0, "e2e-lan: deleted"), (delete.ExitCode, delete.Out.Trim()));
            Assert.DoesNotContain("e2e-lan", (await HvctlAsync("switch", "list", "--gateway", gateway)).Out);
            ProcessResult deleted = await HvctlAsync("switch", "delete", "e2e-lan", "--gateway", gateway);
            Assert.Equal((1, "hvctl: no switch 'e2e-lan'"), (deleted.ExitCode, deleted.Error.Trim()));
        });

    /// <summary>Runs <paramref name="commands"/> against a silo process, host e2e-host, given its gateway; then ends the silo and its disks.</summary>
    private static async Task OnOneSiloAsync(Func<string, Task> commands)
    {
        int[] ports = Actors.Client.LoopbackPorts.Free(2);
        string gateway = $"127.0.0.1:{ports[1]}";
        using Process silo = StartSilo("e2e-host", ports[0], ports[1]);
        try
        {
            await WaitForGatewayAsync(gateway);
            await commands(gateway);
        }
        finally
        {
            silo.Kill(entireProcessTree: true);
            await silo.WaitForExitAsync();
            if (Directory.Exists(TestDiskDirectory))
                Directory.Delete(TestDiskDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Vm_migrate_moves_a_running_guest_between_two_silo_processes_and_back()
    {
        int[] ports = Actors.Client.LoopbackPorts.Free(4);
        string gateway = $"127.0.0.1:{ports[1]}";
        using Process siloA = StartSilo("mig-a", ports[0], ports[1]);
        using Process siloB = StartSilo("mig-b", ports[2], ports[3], joinSiloPort: ports[0]);
        try
        {
            await WaitForGatewayAsync(gateway, "mig-b");
            Assert.Equal(0, (await HvctlAsync("vm", "create", "mv", "--image", Guest("migrate-verify.elf"), "--memory", "64M", "--host", "mig-a",
                "--fw-cfg", "opt/actors/passes=150", "--gateway", gateway)).ExitCode);
            Assert.Equal(0, (await HvctlAsync("vm", "start", "mv", "--gateway", gateway)).ExitCode);

            ProcessResult same = await HvctlAsync("vm", "migrate", "mv", "--to", "mig-a", "--gateway", gateway);
            Assert.Equal((1, "hvctl: VM 'mv' already runs on host 'mig-a'"), (same.ExitCode, same.Error.Trim()));
            ProcessResult badTime = await HvctlAsync("vm", "migrate", "mv", "--to", "mig-b", "--max-downtime", "soon", "--gateway", gateway);
            Assert.Equal(2, badTime.ExitCode);
            Assert.Single(badTime.Error.Trim().Split('\n'));

            ProcessResult there = await HvctlAsync("vm", "migrate", "mv", "--to", "mig-b", "--max-downtime", "20ms", "--gateway", gateway);
            Assert.True(there.ExitCode == 0, $"exit {there.ExitCode}: {there.Out} {there.Error}");
            Assert.Contains("pass 1,", there.Out);
            Assert.Matches(@"mv: now on mig-b: total [0-9.]+ms, downtime [0-9.]+ms, [0-9.]+ MiB sent \([0-9.]+x RAM\) in [0-9]+ passes", there.Out);

            ProcessResult back = await HvctlAsync("vm", "migrate", "mv", "--to", "mig-a", "--max-bandwidth", "512M/s", "--gateway", gateway);
            Assert.True(back.ExitCode == 0, $"exit {back.ExitCode}: {back.Out} {back.Error}");

            ProcessResult migrations = await HvctlAsync("vm", "migrations", "--gateway", gateway);
            Assert.Equal(2, migrations.Out.Split('\n').Count(l => l.Contains(" Completed ", StringComparison.Ordinal)));

            // The guest verifies every page after every pass (150 of them, so it outlasts both moves); its
            // exit status says whether one went missing.
            string shown = string.Empty;
            for (int i = 0; i < 600 && !shown.Contains("state:          Off", StringComparison.Ordinal); i++)
            {
                await Task.Delay(200);
                shown = (await HvctlAsync("vm", "show", "mv", "--gateway", gateway)).Out;
            }
            Assert.Contains("state:          Off", shown);
            Assert.Contains("exit status:    1", shown);
        }
        finally
        {
            siloB.Kill(entireProcessTree: true);
            siloA.Kill(entireProcessTree: true);
            await siloB.WaitForExitAsync();
            await siloA.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Vm_migrate_reports_a_failure_and_the_vm_runs_on_when_the_target_silo_process_dies()
    {
        await using var cluster = await FaultCluster.StartAsync();
        string gateway = cluster.Gateway;
        await MigrateWhileKillingAsync(cluster, "mv-t", cluster.Target);
        // Commands right after a silo's death may be refused until the cluster has noticed it.
        string shown = await HvctlUntilAsync(["vm", "show", "mv-t", "--gateway", gateway], "host:           mig-a");
        Assert.True(shown.Contains("state:          Running", StringComparison.Ordinal), shown);
        await HvctlUntilAsync(["vm", "migrations", "--gateway", gateway], " Failed ");
        // Not stuck "migrating": it stops like any running VM. (A stop that reaches the dead silo before the
        // cluster has declared it dead fails and is tried again, as a user would.)
        ProcessResult stop = await HvctlAsync("vm", "stop", "mv-t", "--gateway", gateway);
        for (int i = 0; i < 60 && stop.ExitCode != 0 && stop.Error.Contains("lost the connection", StringComparison.Ordinal); i++)
        {
            await Task.Delay(500);
            stop = await HvctlAsync("vm", "stop", "mv-t", "--gateway", gateway);
            if (stop.Error.Contains("is Off", StringComparison.Ordinal))
                break;
        }

        Assert.Contains("state:          Off", (await HvctlAsync("vm", "show", "mv-t", "--gateway", gateway)).Out);
    }

    [Fact]
    public async Task Vm_migrate_reports_the_vm_lost_when_the_source_silo_process_dies()
    {
        await using var cluster = await FaultCluster.StartAsync();
        string gateway = cluster.Gateway;
        await MigrateWhileKillingAsync(cluster, "mv-s", cluster.Source);
        string shown = await HvctlUntilAsync(["vm", "show", "mv-s", "--gateway", gateway], "state:          Failed");
        Assert.Contains("host 'mig-a' left the cluster", shown);
        await HvctlUntilAsync(["vm", "migrations", "--gateway", gateway], " Failed ");
    }

    /// <summary>Runs hvctl until its output contains <paramref name="expected"/> (at most 60 times); returns that output.</summary>
    private static async Task<string> HvctlUntilAsync(string[] args, string expected)
    {
        ProcessResult last = new(0, string.Empty, string.Empty);
        for (int i = 0; i < 60; i++)
        {
            last = await HvctlAsync(args);
            if (last.Out.Contains(expected, StringComparison.Ordinal))
                return last.Out;
            await Task.Delay(200);
        }

        Assert.Fail($"hvctl {string.Join(' ', args)} never printed '{expected}'; last: {last.Out} / {last.Error}");
        return last.Out;
    }

    /// <summary>
    /// Runs migrate-verify (until told to stop) on mig-a, starts <c>hvctl vm migrate</c> to mig-b held to
    /// 16 MiB/s (the first pass takes about four seconds), kills <paramref name="victim"/> once
    /// <c>hvctl vm migrations</c> shows it copying, and checks that hvctl reports the migration failed.
    /// </summary>
    private static async Task MigrateWhileKillingAsync(FaultCluster cluster, string vm, Process victim)
    {
        string gateway = cluster.Gateway;
        Assert.Equal(0, (await HvctlAsync("vm", "create", vm, "--image", Guest("migrate-verify.elf"), "--memory", "64M", "--host", "mig-a",
            "--fw-cfg", "opt/actors/passes=0", "--gateway", gateway)).ExitCode);
        Assert.Equal(0, (await HvctlAsync("vm", "start", vm, "--gateway", gateway)).ExitCode);
        Task<ProcessResult> migrate = HvctlAsync("vm", "migrate", vm, "--to", "mig-b", "--max-bandwidth", "16M/s", "--gateway", gateway);
        string listed = string.Empty;
        for (int i = 0; i < 60 && !listed.Contains(" Copying ", StringComparison.Ordinal) && !migrate.IsCompleted; i++)
            listed = (await HvctlAsync("vm", "migrations", "--gateway", gateway)).Out;
        Assert.False(migrate.IsCompleted, $"the migration ended before the silo could be killed: {(migrate.IsCompleted ? migrate.Result.Out : "")}");
        Assert.Contains(" Copying ", listed);
        victim.Kill(entireProcessTree: true);
        await victim.WaitForExitAsync();

        ProcessResult failed = await migrate;
        Assert.True(failed.ExitCode == 1, $"exit {failed.ExitCode}: {failed.Out} / {failed.Error}");
        Assert.StartsWith($"hvctl: {vm}: migration to mig-b failed: ", failed.Error);
        Assert.Single(failed.Error.Trim().Split('\n'));
    }

    /// <summary>
    /// Three silo processes keeping membership and grain state in Redis: mig-p (whose gateway hvctl uses),
    /// mig-a (the source) and mig-b (the target). Either of the last two may be killed; the partition and the
    /// coordinator may live on any of the three.
    /// </summary>
    private sealed class FaultCluster : IAsyncDisposable
    {
        private readonly RedisServer _redis;
        private readonly Process[] _silos;

        private FaultCluster(RedisServer redis, Process[] silos, string gateway)
        {
            _redis = redis;
            _silos = silos;
            Gateway = gateway;
        }

        public string Gateway { get; }

        public Process Source => _silos[1];

        public Process Target => _silos[2];

        public static async Task<FaultCluster> StartAsync()
        {
            RedisServer redis = await RedisServer.StartAsync();
            int[] ports = Actors.Client.LoopbackPorts.Free(6);
            var silos = new[]
            {
                StartSilo("mig-p", ports[0], ports[1], redis: redis.Configuration),
                StartSilo("mig-a", ports[2], ports[3], redis: redis.Configuration),
                StartSilo("mig-b", ports[4], ports[5], redis: redis.Configuration),
            };
            var cluster = new FaultCluster(redis, silos, $"127.0.0.1:{ports[1]}");
            try
            {
                await WaitForGatewayAsync(cluster.Gateway, "mig-a");
                await WaitForGatewayAsync(cluster.Gateway, "mig-b");
            }
            catch
            {
                // No test holds the cluster yet to end its silos.
                await cluster.DisposeAsync();
                throw;
            }

            return cluster;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (Process silo in _silos)
            {
                if (!silo.HasExited)
                    silo.Kill(entireProcessTree: true);
                await silo.WaitForExitAsync();
                silo.Dispose();
            }
            _redis.Dispose();
        }
    }

    /// <summary>Where the silo processes of the tests keep their disks.</summary>
    internal static string TestDiskDirectory { get; } = Path.Combine(Path.GetTempPath(), $"actors-hvctl-test-disks-{Environment.ProcessId}");

    /// <summary>
    /// A silo process on <paramref name="address"/> (127.0.0.1, or another loopback address standing in for another
    /// machine), joining the primary's silo port at <paramref name="joinAddress"/> (default: its own address).
    /// </summary>
    internal static Process StartSilo(string host, int siloPort, int gatewayPort, int? joinSiloPort = null, string? redis = null, string address = "127.0.0.1", string? joinAddress = null, string? diskDirectory = null)
    {
        return Launch(SiloStartInfo(host, siloPort, gatewayPort, joinSiloPort, redis, address, joinAddress, diskDirectory));
    }

    /// <summary>Starts a silo process that runs until killed.</summary>
    internal static Process Launch(ProcessStartInfo start)
    {
        Process process = Process.Start(start) ?? throw new InvalidOperationException("the silo did not start");
        // Drain its output so a full pipe never blocks the silo.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    internal static ProcessStartInfo SiloStartInfo(string host, int siloPort, int gatewayPort, int? joinSiloPort = null, string? redis = null, string address = "127.0.0.1", string? joinAddress = null, string? diskDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoRoot(),
        };
        foreach (string arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "Actors.Silo.dll"), "--host", host,
            "--silo-port", siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--gateway-port", gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(arg);
        }

        if (address != "127.0.0.1")
        {
            start.ArgumentList.Add("--listen");
            start.ArgumentList.Add(address);
        }

        if (joinSiloPort is int join)
        {
            start.ArgumentList.Add("--join");
            start.ArgumentList.Add($"{joinAddress ?? address}:{join.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }

        if (redis is not null)
        {
            start.ArgumentList.Add("--redis");
            start.ArgumentList.Add(redis);
        }

        start.Environment["Logging__LogLevel__Default"] = "Warning";
        // Disks the tests make go with the test run's temporary files, not the user's disk store.
        start.Environment["ACTORS_DISK_DIR"] = diskDirectory ?? TestDiskDirectory;
        return start;
    }

    // The silo takes a few seconds to open its gateway; hvctl's own connect timeout bounds each attempt.
    // With tls, hvctl's --tls-* options for a gateway that demands them.
    internal static async Task WaitForGatewayAsync(string gateway, string host = "e2e-host", string[]? tls = null)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (true)
        {
            ProcessResult probe = await HvctlAsync(["host", "list", "--gateway", gateway, "--connect-timeout", "5", .. tls ?? []]);
            if (probe.ExitCode == 0 && probe.Out.Contains(host, StringComparison.Ordinal))
                return;
            Assert.False(limit.IsCancellationRequested, $"the silo's gateway {gateway} never listed host {host} within two minutes: {probe.Error}");
        }
    }

    internal static string RepoRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Actors.sln")))
                return dir.FullName;
        }

        throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
    }

    internal static string Guest(string file) => Path.Combine(RepoRoot(), "guests", "build", file);

    internal static string HvctlDll()
    {
        // The project reference copies hvctl next to the tests, with its runtimeconfig, so it runs as built.
        string dll = Path.Combine(AppContext.BaseDirectory, "hvctl.dll");
        Assert.True(File.Exists(dll) && File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")), $"hvctl is not built at {dll}");
        return dll;
    }

    internal static Task<ProcessResult> HvctlAsync(params string[] args) => HvctlAsync(environment: null, args);

    /// <summary>Runs hvctl with <paramref name="environment"/> added to the test's own (for example, where to export its spans).</summary>
    internal static async Task<ProcessResult> HvctlAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = RepoRoot() };
        start.ArgumentList.Add(HvctlDll());
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        return await RunToExitAsync(start, Limit);
    }

    /// <summary>Runs a process with its standard input closed to its end, failing the test if it runs longer than <paramref name="limit"/>.</summary>
    internal static async Task<ProcessResult> RunToExitAsync(ProcessStartInfo start, TimeSpan limit)
    {
        start.RedirectStandardInput = start.RedirectStandardOutput = start.RedirectStandardError = true;
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not end within {limit}; output so far: {await output}");
        }

        return new ProcessResult(process.ExitCode, await output, await error);
    }

    internal sealed record ProcessResult(int ExitCode, string Out, string Error);
}
