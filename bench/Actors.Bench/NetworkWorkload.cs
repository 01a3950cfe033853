using System.Globalization;
using System.Text.RegularExpressions;

namespace Actors.Bench;

/// <summary>
/// The <c>network</c> benchmark's two guests, the same text on every side but for the network
/// driver they load: a receiver at 10.0.0.2 and a sender at 10.0.0.1 on one /24. Timing is inside
/// the sender, on its clock (/proc/uptime, 10 ms steps: Debian's busybox <c>date</c> has no
/// <c>%N</c>), so that boot, module loading and making the data do not count.
/// </summary>
internal static partial class NetworkWorkload
{
    /// <summary>What the guests print before their figures; a line "PREFIX failed ..." ends the run as failed.</summary>
    public const string Prefix = "net-bench:";

    private const string SenderAddress = "10.0.0.1";

    private const string ReceiverAddress = "10.0.0.2";

    /// <summary>The adapter of our synthetic network (NVSP and RNDIS over VMBus).</summary>
    public static readonly string[] HyperVModules = ["hv_vmbus", "hv_netvsc"];

    /// <summary>QEMU's virtio-net over PCI, in dependency order (virtio_net depends on net_failover, which depends on failover).</summary>
    public static readonly string[] VirtioModules = [.. StockLinuxInit.VirtioPciModules, "failover", "net_failover", "virtio_net"];

    private const int Port = 5000;

    /// <summary>Loads the driver, waits for eth0 and gives it <paramref name="address"/>.</summary>
    private static string Up(string address, IEnumerable<string> modules) => StockLinuxInit.Start(Prefix, modules) + $$"""
        i=0
        while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
        [ -e /sys/class/net/eth0 ] || fail "no eth0"
        ip addr add {{address}}/24 dev eth0 && ip link set eth0 up || fail "eth0 {{address}}"
        echo "{{Prefix}} eth0 {{address}} $(cat /sys/class/net/eth0/address)"

        """;

    /// <summary>
    /// The receiver's /init: listens with <c>nc -l</c> into /tmp and checks that it got every byte.
    /// It powers off once the sender no longer answers a ping, so that the sender's nc, which returns
    /// when the receiver closes, has its end of the connection (TCP sends a lost FIN again only while
    /// the receiver runs).
    /// </summary>
    public static string Receiver(IEnumerable<string> modules, NetworkBenchmarkOptions options) => Up(ReceiverAddress, modules) + $$"""
        bytes={{(long)options.TransferMiB << 20}}
        nc -l -p {{Port}} > /tmp/received || fail "nc -l -p {{Port}}"
        size=$(wc -c < /tmp/received)
        [ "$size" -eq $bytes ] || fail "received $size bytes of $bytes"
        echo "{{Prefix}} received $size bytes"
        while ping -c 1 -W 1 {{SenderAddress}} >/dev/null 2>&1; do sleep 1; done
        poweroff -f
        """;

    /// <summary>
    /// The sender's /init: makes N MiB from /dev/urandom in /tmp, waits (up to 300 tries of 2 s)
    /// until the receiver answers, pings it P times 0.2 s apart and prints busybox's summary, then
    /// sends the file with <c>nc</c> between two readings of /proc/uptime: until nc returns, which is
    /// when the receiver has read it all and closed. Last, the TCP segments it sent again
    /// (RetransSegs in /proc/net/snmp: frames lost on the way, or answers that came too late) and
    /// how many of those waited for the retransmission timer (TCPTimeouts in /proc/net/netstat, at
    /// least 200 ms each) rather than being resent at once on duplicate acknowledgements.
    /// </summary>
    public static string Sender(IEnumerable<string> modules, NetworkBenchmarkOptions options) => Up(SenderAddress, modules) + $$"""
        mib={{options.TransferMiB}}
        dd if=/dev/urandom of=/tmp/data bs=1048576 count=$mib 2>/dev/null || fail "dd of $mib MiB"
        i=0
        until ping -c 1 -W 2 {{ReceiverAddress}} >/dev/null 2>&1; do i=$((i + 1)); [ $i -lt 300 ] || fail "{{ReceiverAddress}} did not answer"; done
        ping -c {{options.Pings}} -i 0.2 {{ReceiverAddress}} > /tmp/ping || fail "ping: $(grep 'packets transmitted' /tmp/ping)"
        echo "{{Prefix}} ping $(grep 'packets transmitted' /tmp/ping)"
        echo "{{Prefix}} ping $(grep 'round-trip' /tmp/ping)"
        read t0 rest < /proc/uptime
        nc {{ReceiverAddress}} {{Port}} < /tmp/data || fail "nc {{ReceiverAddress}} {{Port}}"
        read t1 rest < /proc/uptime
        echo "{{Prefix}} sent $mib MiB from $t0 to $t1 s"
        resent=$(awk '/^Tcp:/ { if (seen) print $13; seen = 1 }' /proc/net/snmp)
        timeouts=$(awk '/^TcpExt:/ { if (!seen) { for (i = 1; i <= NF; i++) if ($i == "TCPTimeouts") c = i; seen = 1 } else print $c }' /proc/net/netstat)
        echo "{{Prefix}} tcp resent $resent segments, $timeouts timeouts"
        poweroff -f
        """;

    /// <summary>Whether a guest's console says it failed, so that its peer, left waiting, can be stopped.</summary>
    public static bool Failed(string console) => StockLinuxInit.Failure(console, Prefix) is not null;

    /// <summary>
    /// The run's figures from both consoles; throws with one line naming what is missing when a guest
    /// failed, or did not print its lines.
    /// </summary>
    public static NetworkFigures Parse(string sender, string receiver, string who)
    {
        StockLinuxInit.ThrowIfFailed(sender, Prefix, $"{who}, sender");
        StockLinuxInit.ThrowIfFailed(receiver, Prefix, $"{who}, receiver");
        if (!receiver.Contains($"{Prefix} received ", StringComparison.Ordinal))
            throw new BenchUsageException($"{who}, receiver: the guest printed no 'received' line");
        Match sent = SentLine().Match(sender);
        Match packets = PacketsLine().Match(sender);
        Match roundTrip = RoundTripLine().Match(sender);
        Match resent = ResentLine().Match(sender);
        if (!sent.Success || !packets.Success || !roundTrip.Success || !resent.Success)
            throw new BenchUsageException($"{who}, sender: the guest printed no {(!packets.Success ? "ping packets" : !roundTrip.Success ? "ping round-trip" : !sent.Success ? "sent" : "tcp resent")} line");
        return new NetworkFigures(
            Number(sent, 2) - Number(sent, 1),
            Number(roundTrip, 2),
            Number(roundTrip, 1),
            (int)Number(packets, 1),
            (int)Number(packets, 2),
            (long)Number(resent, 1),
            (long)Number(resent, 2));
    }

    private static double Number(Match match, int group) => double.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^net-bench: sent \d+ MiB from (\d+\.\d+) to (\d+\.\d+) s\r?$", RegexOptions.Multiline)]
    private static partial Regex SentLine();

    [GeneratedRegex(@"^net-bench: tcp resent (\d+) segments, (\d+) timeouts", RegexOptions.Multiline)]
    private static partial Regex ResentLine();

    [GeneratedRegex(@"^net-bench: ping (\d+) packets transmitted, (\d+) packets received", RegexOptions.Multiline)]
    private static partial Regex PacketsLine();

    [GeneratedRegex(@"^net-bench: ping round-trip min/avg/max = (\d+\.\d+)/(\d+\.\d+)/(\d+\.\d+) ms", RegexOptions.Multiline)]
    private static partial Regex RoundTripLine();
}

/// <summary>
/// One run's figures: the transfer's seconds on the sender's clock, the pings' average and minimum
/// round trip (ms), how many were sent and answered, and the TCP segments the sender sent again and
/// its retransmission timeouts.
/// </summary>
internal sealed record NetworkFigures(double Seconds, double PingAverageMs, double PingMinimumMs, int PingsSent, int PingsAnswered, long TcpResent, long TcpTimeouts);
