using System.Diagnostics;
using System.Text;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Network;
using Actors.HwBackend.Tests.Network;
using Actors.HwBackend.Tests.Worker;
using Actors.HwBackend.Worker;
using Actors.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace Actors.HwBackend.Tests.Linux;

/// <summary>
/// Linux's own network stack against our network VSP, unmodified: two VMs of Debian's cloud kernel
/// load hv_netvsc, each finds eth0 with the MAC address its host gave it, and over a cable between
/// their adapters they ping each other and one sends the other a file with busybox nc.
/// </summary>
public sealed class StockLinuxNetworkTests(ITestOutputHelper output)
{
    private const ulong Memory = 256UL << 20;
    private const int TransferKiB = 4096;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);

    // The sender makes a file, waits for the receiver to answer pings, sends the file, then waits
    // for the receiver's word that it has it (so that the receiver's pings find it still up).
    private static readonly string Sender = StockLinux.NetworkInit("10.0.0.1") + $$"""

        dd if=/dev/urandom of=/tmp/data bs=1024 count={{TransferKiB}} 2>/dev/null
        echo "sent hash: $(sha256sum /tmp/data | cut -d' ' -f1)"
        i=0
        until ping -c 1 -W 2 10.0.0.2 >/dev/null 2>&1 || [ $i -ge 60 ]; do i=$((i+1)); done
        ping -c 3 10.0.0.2 | grep -q " 0% packet loss" && echo "ping: answered"
        nc 10.0.0.2 5000 < /tmp/data && echo "nc: sent"
        nc -l -p 5001
        poweroff -f
        """;

    private static readonly string Receiver = StockLinux.NetworkInit("10.0.0.2") + """

        nc -l -p 5000 > /tmp/received
        echo "received: $(sha256sum /tmp/received | cut -d' ' -f1) $(wc -c < /tmp/received)"
        ping -c 3 10.0.0.1 | grep -q " 0% packet loss" && echo "ping: answered"
        echo done | nc 10.0.0.1 5001
        poweroff -f
        """;

    [Fact]
    public void TwoStockLinuxVmsPingEachOtherAndMoveAFileOverTheirAdapters()
    {
        MacAddress senderMac = new(0x00155D_000001), receiverMac = new(0x00155D_000002);
        using var cable = new CrossoverCable();
        var consoles = new[] { new RecordingConsole(), new RecordingConsole() };
        var probes = new[] { new EndProbe(), new EndProbe() };
        var clock = Stopwatch.StartNew();
        using var sender = VmWorker.Create(new EmulatorBackend(), "sender", StockLinux.Kernel(), Memory, processorCount: 1, consoles[0], probes[0].OnEnded,
            initrd: StockLinux.InitrdWithModules(Sender, StockLinux.NetworkModules), commandLine: StockLinux.CommandLine, enlightened: true,
            nics: [new NetworkAdapter(senderMac, cable[0])]);
        using var receiver = VmWorker.Create(new EmulatorBackend(), "receiver", StockLinux.Kernel(), Memory, processorCount: 1, consoles[1], probes[1].OnEnded,
            initrd: StockLinux.InitrdWithModules(Receiver, StockLinux.NetworkModules), commandLine: StockLinux.CommandLine, enlightened: true,
            nics: [new NetworkAdapter(receiverMac, cable[1])]);
        cable.Connect(sender.NetworkAdapters[0], receiver.NetworkAdapters[0]);
        sender.Start();
        receiver.Start();
        VmRunEnded[] ended = [probes[0].Wait(Deadline), probes[1].Wait(Deadline)];

        string[][] lines = new string[2][];
        for (int i = 0; i < 2; i++)
        {
            string serial = Encoding.UTF8.GetString(consoles[i].Bytes).Replace("\r\n", "\n", StringComparison.Ordinal);
            lines[i] = [.. StockLinux.UserLines(serial)];
            foreach (string line in serial.Split('\n').Where(l => l.Contains("hv_netvsc", StringComparison.Ordinal) || l.Contains("eth0", StringComparison.Ordinal) || !l.StartsWith('[')))
                output.WriteLine($"{(i == 0 ? "sender" : "receiver")}: {line}");
            Assert.True(ended[i].Reason == VmWorker.PowerOffReason, $"ended by {ended[i].Reason}; last output:\n{serial[Math.Max(0, serial.Length - 3000)..]}");
        }
        var adapters = new[] { sender.NetworkAdapters[0], receiver.NetworkAdapters[0] };
        output.WriteLine($"both powered off after {clock.Elapsed.TotalSeconds:F1} s; sender sent {adapters[0].TransmittedFrames} frames, received {adapters[0].ReceivedFrames}; "
            + $"receiver sent {adapters[1].TransmittedFrames}, received {adapters[1].ReceivedFrames}; malformed {adapters[0].Malformed}/{adapters[1].Malformed}, drops {adapters[0].ReceiveDrops}/{adapters[1].ReceiveDrops}");

        Assert.Contains($"eth0: up {senderMac}", lines[0]);
        Assert.Contains($"eth0: up {receiverMac}", lines[1]);
        Assert.Contains("ping: answered", lines[0]);
        Assert.Contains("nc: sent", lines[0]);
        string hash = lines[0].Single(l => l.StartsWith("sent hash: ", StringComparison.Ordinal))["sent hash: ".Length..];
        Assert.Contains($"received: {hash} {TransferKiB * 1024}", lines[1]);
        Assert.Contains("ping: answered", lines[1]);
        Assert.Equal(0, adapters[0].Malformed);
        Assert.Equal(0, adapters[1].Malformed);
        Assert.True(adapters[1].ReceivedBytes > TransferKiB * 1024L, $"the receiver's adapter took {adapters[1].ReceivedBytes} bytes");
    }
}
