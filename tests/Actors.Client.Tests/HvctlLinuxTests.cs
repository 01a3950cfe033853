using System.Diagnostics;
using System.Text;
using Actors.Tests.Shared;
using static Actors.Client.Tests.HvctlEndToEndTests;

namespace Actors.Client.Tests;

/// <summary>hvctl run with a stock Linux kernel, as a user runs QEMU's -kernel/-initrd/-append: what works, and what is refused.</summary>
[Collection(SiloProcessCollection.Name)]
public sealed class HvctlLinuxTests
{
    private const string Init = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        echo "init: $(grep -c ^processor /proc/cpuinfo) CPUs"
        poweroff -f
        """;

    [Fact]
    public async Task Run_boots_the_kernel_with_its_initrd_and_exits_0_when_it_powers_off()
    {
        string initrd = StockLinux.InitrdFile(StockLinux.Initrd(Init));
        try
        {
            ProcessResult r = await HvctlAsync("run", "--kernel", StockLinux.KernelPath, "--initrd", initrd, "--append", StockLinux.CommandLine, "--memory", "256M", "--vcpus", "2");

            Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Error}");
            Assert.Contains("init: 2 CPUs", r.Out);
            Assert.Contains("reboot: Power down", r.Out);
            Assert.Equal(string.Empty, r.Error.Trim());
        }
        finally
        {
            File.Delete(initrd);
        }
    }

    public static TheoryData<string, string> BadInput => new()
    {
        { "not-a-kernel", "this image is not one" },
        { "truncated-kernel", "bzImage truncated" },
        { "initrd-larger-than-ram", "does not fit" },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task Run_refuses_a_bad_kernel_or_initrd_with_one_line_before_the_guest_starts(string damage, string expected)
    {
        string kernel = StockLinux.KernelPath;
        string initrd = StockLinux.InitrdFile(StockLinux.Initrd(Init));
        string? scratch = null;
        try
        {
            switch (damage)
            {
                case "not-a-kernel":
                    scratch = kernel = StockLinux.InitrdFile("just some text\n"u8.ToArray());
                    break;
                case "truncated-kernel":
                    scratch = kernel = StockLinux.InitrdFile(File.ReadAllBytes(StockLinux.KernelPath)[..(1 << 20)]);
                    break;
                case "initrd-larger-than-ram":
                    // A valid archive padded with zeros (the kernel skips them) to more than the VM's 64 MiB.
                    File.WriteAllBytes(initrd, [.. File.ReadAllBytes(initrd), .. new byte[80 << 20]]);
                    break;
            }

            ProcessResult r = await HvctlAsync("run", "--kernel", kernel, "--initrd", initrd, "--append", StockLinux.CommandLine, "--memory", "64M");

            Assert.Equal(1, r.ExitCode);
            string line = Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(expected, line);
            Assert.DoesNotContain("Linux version", r.Out);
        }
        finally
        {
            File.Delete(initrd);
            if (scratch is not null)
                File.Delete(scratch);
        }
    }

    /// <summary><c>vm show</c>'s output once it matches <paramref name="expected"/>, asking once a second for up to two minutes.</summary>
    private static async Task<string> ShowWhenAsync(string vm, string gateway, System.Text.RegularExpressions.Regex expected)
    {
        string shown = (await HvctlAsync("vm", "show", vm, "--gateway", gateway)).Out;
        for (int attempt = 0; attempt < 120 && !expected.IsMatch(shown); attempt++)
        {
            await Task.Delay(1000);
            shown = (await HvctlAsync("vm", "show", vm, "--gateway", gateway)).Out;
        }
        Assert.True(expected.IsMatch(shown), $"vm show never matched {expected}; it last said:\n{shown}");
        return shown;
    }

    [Fact]
    public async Task An_empty_append_is_a_usage_error()
    {
        ProcessResult r = await HvctlAsync("run", "--kernel", StockLinux.KernelPath, "--append", "");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--append is empty", Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public async Task Vm_console_runs_typed_commands_in_the_guest_shell_and_ctrl_bracket_detaches_leaving_it_running()
    {
        const string script = """
            #!/bin/busybox sh
            /bin/busybox --install -s /bin
            mount -t proc proc /proc
            mount -t devtmpfs devtmpfs /dev
            mkdir -p /etc /var/lib/hyperv
            hostname tty-guest
            echo "127.0.1.1 tty-guest" > /etc/hosts
            echo "hosts: files" > /etc/nsswitch.conf
            insmod /hv_vmbus.ko && insmod /hv_utils.ko
            /usr/sbin/hv_kvp_daemon --no-daemon &
            echo "shell ready"
            exec /bin/sh
            """;
        int[] ports = Actors.Client.LoopbackPorts.Free(2);
        string gateway = $"127.0.0.1:{ports[1]}";
        string initrd = StockLinux.InitrdFile(StockLinux.InitrdWithDaemons(script, "hv_vmbus.ko", "hv_utils.ko"));
        using Process silo = StartSilo("console-host", ports[0], ports[1]);
        try
        {
            await WaitForGatewayAsync(gateway, "console-host");
            Assert.Equal(0, (await HvctlAsync("vm", "create", "tty", "--kernel", StockLinux.KernelPath, "--initrd", initrd, "--append", StockLinux.CommandLine, "--memory", "256M", "--hyperv", "--gateway", gateway)).ExitCode);
            Assert.Equal(0, (await HvctlAsync("vm", "start", "tty", "--gateway", gateway)).ExitCode);

            var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoRoot() };
            foreach (string arg in new[] { HvctlDll(), "vm", "console", "tty", "--gateway", gateway })
                start.ArgumentList.Add(arg);
            using Process console = Process.Start(start) ?? throw new InvalidOperationException("hvctl did not start");
            var output = new StringBuilder();
            Task pump = Task.Run(async () =>
            {
                var buffer = new char[4096];
                int read;
                while ((read = await console.StandardOutput.ReadAsync(buffer)) > 0)
                {
                    lock (output)
                        output.Append(buffer, 0, read);
                }
            });
            Task<string> error = console.StandardError.ReadToEndAsync();
            string Output()
            {
                lock (output)
                    return output.ToString();
            }

            await UntilAsync(() => Output().Contains("shell ready", StringComparison.Ordinal), "the guest's shell", TimeSpan.FromMinutes(3), Output);
            // The terminal echoes what we type; only the shell's answer has 42 on a line of its own.
            await console.StandardInput.WriteAsync("echo $((6 * 7))\n");
            await console.StandardInput.FlushAsync();
            await UntilAsync(() => Output().Contains("\n42\r\n", StringComparison.Ordinal) || Output().Contains("\n42\n", StringComparison.Ordinal), "the command's output", TimeSpan.FromMinutes(1), Output);

            await console.StandardInput.BaseStream.WriteAsync(new byte[] { 0x1D });
            await console.StandardInput.BaseStream.FlushAsync();
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await console.WaitForExitAsync(limit.Token);
            await pump;
            Assert.Equal(0, console.ExitCode);
            Assert.Contains("escape character is ^]", await error);

            ProcessResult show = await HvctlAsync("vm", "show", "tty", "--gateway", gateway);
            Assert.Contains("Running", show.Out);
            // Linux looks for PCI at boot; there is none here, and vm show says what the guest touched in vain.
            Assert.Matches(@"\nunimplemented: +[0-9]+\n", show.Out);
            Assert.Matches(@"\n  port 0xcf8 written at 0xffffffff[0-9a-f]{8}, ", show.Out);
            // Created with --hyperv, the guest's own hv_utils answers the heartbeat integration service.
            var heartbeat = new System.Text.RegularExpressions.Regex(@"\nheartbeat: +ok, [0-9.]+ s ago \([0-9]+ answers, round trip [0-9.]+ ms\)\n");
            string shown = await ShowWhenAsync("tty", gateway, heartbeat);
            Assert.Matches(@"\nshutdown: +ready\n", shown);
            Assert.Matches(@"\ntime sync: +version 4\.0, clock set [0-9]+ times, last to 20[0-9-]+ [0-9:]+ UTC\n", shown);
            Assert.Matches(@"\ntty +Running +console-host +256M +1 +ok, [0-9.]+ s ago\n", (await HvctlAsync("vm", "list", "--gateway", gateway)).Out);
            // The bus, from the VM's VMBus grain: version 5.0, the four integration services open in the VM's worker.
            ProcessResult bus = await HvctlAsync("vm", "bus", "tty", "--gateway", gateway);
            Assert.True(bus.ExitCode == 0, bus.Error);
            Assert.StartsWith("VMBus on console-host: version 5.0\n", bus.Out, StringComparison.Ordinal);
            foreach (string device in new[] { "heartbeat", "shutdown", "time sync", "kvp" })
                Assert.Matches($@"\n[1-4] +{device} +open +0 +[0-9]+ +console-host \(the VM's worker\) +a5b1c0de-", bus.Out);
            // The guest's hv_kvp_daemon tells the host its name and OS, and takes what the host gives it.
            shown = await ShowWhenAsync("tty", gateway, new System.Text.RegularExpressions.Regex(@"\nguest name: +tty-guest\n"));
            Assert.Matches(@"\nguest os: +Linux\n", shown);
            ProcessResult kvp = await HvctlAsync("vm", "kvp", "tty", "greeting", "hello from the host", "--gateway", gateway);
            Assert.True(kvp.ExitCode == 0, kvp.Error);
            Assert.Equal("tty: greeting queued for the guest\n", kvp.Out);

            // The guest restarts when asked (hv_utils has no /sbin/reboot to run here, so the kernel
            // restarts by itself), and the partition starts the VM again; then it powers off when asked.
            ProcessResult reboot = await HvctlAsync("vm", "reboot", "tty", "--gateway", gateway);
            Assert.True(reboot.ExitCode == 0, reboot.Error);
            Assert.Equal("tty: Running on console-host (restarted)\n", reboot.Out);
            await ShowWhenAsync("tty", gateway, new System.Text.RegularExpressions.Regex(@"\nshutdown: +ready\n"));
            ProcessResult shutdown = await HvctlAsync("vm", "shutdown", "tty", "--gateway", gateway);
            Assert.True(shutdown.ExitCode == 0, shutdown.Error);
            Assert.Equal("tty: Off (acpi-poweroff)\n", shutdown.Out);
            Assert.Matches(@"\nheartbeat: +-\n", (await HvctlAsync("vm", "show", "tty", "--gateway", gateway)).Out); // nothing stale once off

            // Asked again, an Off VM refuses in one line.
            ProcessResult again = await HvctlAsync("vm", "shutdown", "tty", "--gateway", gateway);
            Assert.Equal(1, again.ExitCode);
            Assert.Contains("VM 'tty' is Off; only a Running guest's integration services can be asked", Assert.Single(again.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        }
        finally
        {
            File.Delete(initrd);
            silo.Kill(entireProcessTree: true);
            await silo.WaitForExitAsync();
        }
    }

    private static async Task UntilAsync(Func<bool> done, string what, TimeSpan timeout, Func<string> soFar)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > timeout)
                Assert.Fail($"timed out waiting for {what}; output so far: {soFar()}");
            await Task.Delay(100);
        }
    }
}
