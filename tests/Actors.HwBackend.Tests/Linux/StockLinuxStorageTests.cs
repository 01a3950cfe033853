using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Storage;
using Actors.HwBackend.Tests.Worker;
using Actors.HwBackend.Worker;
using Actors.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace Actors.HwBackend.Tests.Linux;

/// <summary>
/// Linux's own storage stack against our storage VSP, unmodified: Debian's cloud kernel loads
/// hv_storvsc and sd_mod, finds the disk on the synthetic SCSI controller as /dev/sda, reads what
/// the host put on it, writes its own pattern, and the host finds those bytes in the disk's file.
/// </summary>
public sealed class StockLinuxStorageTests(ITestOutputHelper output)
{
    private const ulong Memory = 256UL << 20;
    private const long DiskBytes = 64L << 20;
    private const long HostPatternSector = 2048; // 1 MiB in
    private const int PatternBytes = 256 * 1024;
    private const long GuestPatternSector = 8192; // 4 MiB in
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    private static readonly string Script = $$"""
        {{StockLinux.StorageInit}} && echo "modules: loaded"
        i=0
        while [ ! -b /dev/sda ] && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done
        echo "sectors: $(cat /sys/block/sda/size)"
        echo "host pattern: $(dd if=/dev/sda bs=512 skip={{HostPatternSector}} count={{PatternBytes / 512}} 2>/dev/null | sha256sum | cut -d' ' -f1)"
        seq 1 100000 | head -c {{PatternBytes}} > /tmp/guest
        echo "guest pattern: $(sha256sum /tmp/guest | cut -d' ' -f1)"
        dd if=/tmp/guest of=/dev/sda bs=4096 seek={{GuestPatternSector / 8}} conv=fsync 2>/dev/null && echo "written"
        echo 3 > /proc/sys/vm/drop_caches
        echo "read back: $(dd if=/dev/sda bs=4096 skip={{GuestPatternSector / 8}} count={{PatternBytes / 4096}} 2>/dev/null | sha256sum | cut -d' ' -f1)"
        poweroff -f
        """;

    [Fact]
    public void StockLinuxFindsTheDiskReadsWhatTheHostWroteAndItsWritesReachTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"actors-disk-{Guid.NewGuid():N}.img");
        try
        {
            byte[] hostPattern = new byte[PatternBytes];
            new Random(12).NextBytes(hostPattern);
            using (var store = FileBlockStore.Create(path, DiskBytes))
            {
                store.Write(HostPatternSector * 512, hostPattern);
                store.Flush();
            }

            byte[] initrd = StockLinux.InitrdWithModules(Script, StockLinux.StorageModules);
            var console = new RecordingConsole();
            var probe = new EndProbe();
            var clock = Stopwatch.StartNew();
            using (var store = FileBlockStore.Open(path))
            {
                using var worker = VmWorker.Create(new EmulatorBackend(), "linux-disk", StockLinux.Kernel(), Memory, processorCount: 1, console, probe.OnEnded,
                    initrd: initrd, commandLine: StockLinux.CommandLine, enlightened: true, disks: [new ScsiDisk(store, "actors-test-disk")]);
                worker.Start();
                VmRunEnded ended = probe.Wait(Deadline);
                string serial = Encoding.UTF8.GetString(console.Bytes).Replace("\r\n", "\n", StringComparison.Ordinal);
                output.WriteLine($"powered off after {clock.Elapsed.TotalSeconds:F1} s, {worker.Storage!.Requests} SCSI requests, {worker.Storage.Malformed} malformed");
                string[] lines = StockLinux.UserLines(serial).ToArray();
                foreach (string line in serial.Split('\n').Where(l => l.Contains("sd ", StringComparison.Ordinal) || l.Contains("scsi", StringComparison.Ordinal) || l.Contains("storvsc", StringComparison.Ordinal) || !l.StartsWith('[')))
                    output.WriteLine(line);
                Assert.True(ended.Reason == VmWorker.PowerOffReason, $"ended by {ended.Reason}; last output:\n{serial[Math.Max(0, serial.Length - 3000)..]}");
                Assert.Contains("modules: loaded", lines);
                // The kernel's own words for the disk it found: Linux's sd read its capacity and cache mode.
                Assert.Contains($"sd 0:0:0:0: [sda] {DiskBytes / 512} 512-byte logical blocks", serial);
                Assert.Contains("sd 0:0:0:0: [sda] Attached SCSI disk", serial);
                Assert.Contains($"sectors: {DiskBytes / 512}", lines);
                Assert.Contains($"host pattern: {Hex(hostPattern)}", lines);
                string guestHash = lines.Single(l => l.StartsWith("guest pattern: ", StringComparison.Ordinal))["guest pattern: ".Length..];
                Assert.Contains("written", lines);
                Assert.Contains($"read back: {guestHash}", lines);
                Assert.Equal(0, worker.Storage.Malformed);
            }

            // What the guest wrote is in the file, where the guest put it.
            using (var store = FileBlockStore.Open(path))
            {
                byte[] onDisk = new byte[PatternBytes];
                store.Read(GuestPatternSector * 512, onDisk);
                byte[] expected = Encoding.ASCII.GetBytes(string.Join('\n', Enumerable.Range(1, 100000)) + "\n")[..PatternBytes];
                Assert.Equal(Hex(expected), Hex(onDisk));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Hex(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));
}
