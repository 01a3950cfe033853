using System.Globalization;
using System.Text.RegularExpressions;

namespace Actors.Bench;

/// <summary>
/// The <c>disk</c> benchmark's guest: one busybox /init, the same text on every side but for the
/// disk's device name and the drivers it loads, that times four phases against the guest's first
/// disk and prints one line per phase. Timing is inside the guest so that boot, module loading and
/// the host's way of collecting the console do not count; Debian's busybox <c>date</c> has no
/// <c>%N</c>, so the clock is /proc/uptime (10 ms steps).
/// </summary>
internal static partial class DiskWorkload
{
    /// <summary>What the guest prints before each phase's figures; a line "PREFIX failed ..." ends the run as failed.</summary>
    public const string Prefix = "disk-bench:";

    /// <summary>The phases in the order the guest runs them.</summary>
    public static readonly string[] Phases = ["seq-write", "seq-read", "rand-write", "rand-read"];

    /// <summary>Whether <see cref="Phases"/>[i] is sequential (MiB/s) rather than random (IOPS).</summary>
    public static bool IsSequential(int phase) => phase < 2;

    /// <summary>The Hyper-V storage stack (synthetic SCSI), in dependency order; the disk is sda.</summary>
    public static readonly string[] HyperVModules = ["hv_vmbus", "scsi_common", "scsi_mod", "scsi_transport_fc", "hv_storvsc", "sd_mod"];

    /// <summary>QEMU's virtio-blk over PCI, in dependency order; the disk is vda.</summary>
    public static readonly string[] VirtioModules = [.. StockLinuxInit.VirtioPciModules, "virtio_blk"];

    /// <summary>
    /// The /init. Before the clock starts it makes its data: N MiB of text (non-zero and not
    /// repeating within a MiB) in /tmp, one 4 KiB block of it, and the random block numbers from an
    /// LCG (glibc's constants, modulus 2^31, seed 1; bits 8 up, modulo the disk's blocks). Then:
    /// <list type="bullet">
    /// <item>seq-write: <c>dd bs=1M conv=fsync</c> of the pattern onto the disk: the page cache, then the writeback and one cache flush;</item>
    /// <item>drop caches, seq-read: <c>dd bs=1M</c> of the disk to /dev/null, through the page cache and its readahead;</item>
    /// <item>rand-write: one <c>dd bs=4096 count=1 conv=notrunc,fsync</c> per block number: a 4 KiB write and a cache flush each
    /// (busybox dd has no oflag=dsync; on a block device with a write cache, fsync is what dsync would do);</item>
    /// <item>drop caches, rand-read: one <c>dd bs=4096 count=1 iflag=direct</c> per block number, so each is one 4 KiB read
    /// and not a readahead window.</item>
    /// </list>
    /// The random phases start a dd process per I/O, as a shell must, so they measure the guest's
    /// process start as well as the disk: the same work on both sides, but CPU-bound work.
    /// </summary>
    public static string Script(string device, IEnumerable<string> modules, DiskBenchmarkOptions options) => StockLinuxInit.Start(Prefix, modules) + $$"""
        dev={{device}}
        mib={{options.SizeMiB}}
        ios={{options.RandomIos}}
        i=0
        while [ ! -b /dev/$dev ] && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
        [ -b /dev/$dev ] || fail "no /dev/$dev"
        echo "{{Prefix}} /dev/$dev, $(cat /sys/block/$dev/size) sectors"
        seq 1 200000 | head -c 1048576 > /tmp/mib
        i=0
        while [ $i -lt $mib ]; do cat /tmp/mib; i=$((i + 1)); done > /tmp/pattern
        head -c 4096 /tmp/mib > /tmp/block
        blocks=$((mib * 256))
        x=1
        list=""
        i=0
        while [ $i -lt $ios ]; do x=$(((x * 1103515245 + 12345) % 2147483648)); list="$list $(((x >> 8) % blocks))"; i=$((i + 1)); done
        elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
        sync
        echo 3 > /proc/sys/vm/drop_caches
        read t0 rest < /proc/uptime
        dd if=/tmp/pattern of=/dev/$dev bs=1M count=$mib conv=fsync 2>/dev/null || fail seq-write
        read t1 rest < /proc/uptime
        echo "{{Prefix}} seq-write $mib MiB $(elapsed $t0 $t1) s"
        echo 3 > /proc/sys/vm/drop_caches
        read t0 rest < /proc/uptime
        dd if=/dev/$dev of=/dev/null bs=1M count=$mib 2>/dev/null || fail seq-read
        read t1 rest < /proc/uptime
        echo "{{Prefix}} seq-read $mib MiB $(elapsed $t0 $t1) s"
        read t0 rest < /proc/uptime
        for b in $list; do dd if=/tmp/block of=/dev/$dev bs=4096 seek=$b count=1 conv=notrunc,fsync 2>/dev/null || fail "rand-write at block $b"; done
        read t1 rest < /proc/uptime
        echo "{{Prefix}} rand-write $ios x 4 KiB $(elapsed $t0 $t1) s"
        echo 3 > /proc/sys/vm/drop_caches
        read t0 rest < /proc/uptime
        for b in $list; do dd if=/dev/$dev of=/dev/null bs=4096 skip=$b count=1 iflag=direct 2>/dev/null || fail "rand-read at block $b"; done
        read t1 rest < /proc/uptime
        echo "{{Prefix}} rand-read $ios x 4 KiB $(elapsed $t0 $t1) s"
        echo "{{Prefix}} done"
        poweroff -f
        """;

    /// <summary>
    /// Each phase's seconds from the guest's console, in <see cref="Phases"/>' order; throws with
    /// one line naming what is missing when the guest failed, or did not print every phase.
    /// </summary>
    public static double[] Parse(string console, string who)
    {
        StockLinuxInit.ThrowIfFailed(console, Prefix, who);
        var seconds = new double[Phases.Length];
        for (int i = 0; i < Phases.Length; i++)
        {
            Match m = PhaseLine().Matches(console).FirstOrDefault(m => m.Groups[1].Value == Phases[i])
                ?? throw new BenchUsageException($"{who}: the guest printed no {Phases[i]} line{(console.Contains(Prefix, StringComparison.Ordinal) ? "" : $" (nor any '{Prefix}' line)")}");
            seconds[i] = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        }

        return seconds;
    }

    [GeneratedRegex(@"^disk-bench: (seq-write|seq-read|rand-write|rand-read) .* (\d+\.\d+) s\r?$", RegexOptions.Multiline)]
    private static partial Regex PhaseLine();
}
