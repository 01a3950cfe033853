using System.Diagnostics;
using System.Text;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Tests.Worker;
using Actors.HwBackend.VmBus.IntegrationServices;
using Actors.HwBackend.Worker;
using Actors.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace Actors.HwBackend.Tests.Linux;

/// <summary>
/// Linux's own KVP stack against ours, unmodified: Debian's cloud kernel with hv_vmbus and hv_utils,
/// and Debian's hv_kvp_daemon (hyperv-daemons, with the glibc it links) in the initramfs. The host
/// reads the name the guest gave itself from its auto pool, and pushes keys to its external pool,
/// which the daemon keeps in /var/lib/hyperv/.kvp_pool_0.
/// </summary>
public sealed class StockLinuxKvpTests(ITestOutputHelper output)
{
    private const ulong Memory = 256UL << 20;
    private const string HostName = "kvp-test-vm";
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    // The daemon reads the name once, as it starts, through getaddrinfo: /etc/hosts must know it, and
    // NSS must not wait for a DNS server that is not there. The guest waits (at most two minutes) for
    // the key the host pushes once it has seen that name, then prints the daemon's external pool as
    // key=value lines: the file is records of a 512-byte key and a 2048-byte value, each UTF-8 up to
    // a NUL and whatever the daemon's memory held after it.
    private const string Script = $$"""
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        mkdir -p /etc /var/lib/hyperv
        hostname {{HostName}}
        echo "127.0.1.1 {{HostName}}" > /etc/hosts
        echo "hosts: files" > /etc/nsswitch.conf
        echo "release: $(uname -r)"
        insmod /hv_vmbus.ko && insmod /hv_utils.ko && echo "modules: loaded"
        /usr/sbin/hv_kvp_daemon --no-daemon &
        pool=/var/lib/hyperv/.kvp_pool_0
        i=0
        while ! grep -q HostSawName $pool 2>/dev/null && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done
        n=0
        while [ $((n * 2560)) -lt $(wc -c < $pool) ]; do
          k=$(dd if=$pool bs=2560 skip=$n count=1 2>/dev/null | head -c 512 | tr '\000' '\n' | head -n 1)
          v=$(dd if=$pool bs=2560 skip=$n count=1 2>/dev/null | tail -c 2048 | tr '\000' '\n' | head -n 1)
          echo "pool 0: $k=$v"
          n=$((n + 1))
        done
        poweroff -f
        """;

    [Fact]
    public void DebiansKvpDaemonTellsTheHostItsNameAndKeepsWhatTheHostPushes()
    {
        byte[] initrd = StockLinux.InitrdWithDaemons(Script, "hv_vmbus.ko", "hv_utils.ko");
        var console = new RecordingConsole();
        var probe = new EndProbe();
        using var worker = VmWorker.Create(new EmulatorBackend(), "linux-kvp", StockLinux.Kernel(), Memory, processorCount: 1, console, probe.OnEnded, initrd: initrd, commandLine: StockLinux.CommandLine, enlightened: true);
        KvpService kvp = worker.Kvp!;
        Assert.True(kvp.Push("HostQueuedEarly", "before the guest booted")); // waits for the guest to agree on versions

        var clock = Stopwatch.StartNew();
        worker.Start();
        // Once the host has the guest's name it says so with a push, which lets the guest power off.
        while (!kvp.GuestValues.ContainsKey(KvpService.HostNameKey) && probe.Calls == 0 && clock.Elapsed < Deadline)
            Thread.Sleep(100);
        TimeSpan named = clock.Elapsed;
        if (kvp.GuestValues.TryGetValue(KvpService.HostNameKey, out string? name))
            Assert.True(kvp.Push("HostSawName", name));
        VmRunEnded ended = probe.Wait(Deadline);
        output.WriteLine($"the host had the guest's name after {named.TotalSeconds:F1} s; the guest powered off after {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"vm show: {kvp.Describe()}");

        string serial = Encoding.UTF8.GetString(console.Bytes).Replace("\r\n", "\n", StringComparison.Ordinal);
        string[] lines = StockLinux.UserLines(serial).ToArray();
        Assert.True(ended.Reason == VmWorker.PowerOffReason, $"ended by {ended.Reason}; last output:\n{Tail(serial)}");
        Assert.Contains("modules: loaded", lines);
        // hv_utils bound our offer, and agreed on the newest version both sides know once the daemon registered.
        Assert.Contains("hv_utils: KVP IC version 4.0\n", serial);

        // The whole auto pool as the 6.1 daemon fills it: its name through /etc/hosts, the rest from
        // uname (no /etc/os-release here, so the OS is "Linux" and its version the release up to the '-').
        string release = lines.Single(l => l.StartsWith("release: ", StringComparison.Ordinal))["release: ".Length..];
        Assert.True(kvp.GuestValues.Count == 10, $"the guest reported: {string.Join(", ", kvp.GuestValues)}");
        Assert.Equal(HostName, kvp.GuestValues["FullyQualifiedDomainName"]);
        Assert.Equal("3.1", kvp.GuestValues["IntegrationServicesVersion"]); // what hv_kvp tells its daemon
        Assert.Equal("", kvp.GuestValues["NetworkAddressIPv4"]); // only the loopback device, which does not count
        Assert.Equal("Linux", kvp.GuestValues["OSName"]);
        Assert.Equal(release, kvp.GuestValues["OSBuildNumber"]);
        Assert.Equal(release.Split('-')[0], kvp.GuestValues["OSVersion"]);
        Assert.Equal("x86_64", kvp.GuestValues["ProcessorArchitecture"]);
        Assert.StartsWith($"ok: 10 values, host name {HostName}, enumerated ", kvp.Describe(), StringComparison.Ordinal);

        // Both pushes, the one queued before the guest booted and the one after, reached the daemon's file.
        Assert.Contains("pool 0: HostQueuedEarly=before the guest booted", lines);
        Assert.Contains($"pool 0: HostSawName={HostName}", lines);
        Assert.Equal(2, kvp.PushesDelivered);
        Assert.Equal(0, kvp.PushesFailed);
        Assert.Equal(0, kvp.TimedOutRequests);
        Assert.Equal(0, kvp.IgnoredAnswers);
        Assert.DoesNotContain("unchecked MSR access error", serial);
    }

    private static string Tail(string serial) => serial.Length > 3000 ? serial[^3000..] : serial;
}
