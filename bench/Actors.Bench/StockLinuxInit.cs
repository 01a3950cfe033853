using Actors.Tests.Shared;

namespace Actors.Bench;

/// <summary>
/// What the /init scripts of the benchmarks' stock Linux guests share: the start (busybox, /proc,
/// /sys, /dev, the kernel's modules) and the way a guest says it failed, a line "PREFIX failed WHAT"
/// before it powers off.
/// </summary>
internal static class StockLinuxInit
{
    /// <summary>
    /// QEMU's virtio transport over PCI, in dependency order (from each module's <c>depends=</c>; none
    /// of them is built into Debian's cloud kernel): what a virtio device's own driver needs first.
    /// </summary>
    public static readonly string[] VirtioPciModules = ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci"];

    /// <summary>
    /// The script's first lines: busybox's applets, the pseudo file systems, a shell function
    /// <c>fail</c> that prints "<paramref name="prefix"/> failed ARGS" and powers off, and
    /// <paramref name="modules"/> loaded in order (failing on the first that does not load).
    /// </summary>
    public static string Start(string prefix, IEnumerable<string> modules) => $$"""
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        fail() { echo "{{prefix}} failed $*"; poweroff -f; }
        for m in {{string.Join(' ', modules)}}; do insmod /$m.ko || fail "insmod $m"; done

        """;

    /// <summary>Busybox's initramfs with <paramref name="script"/> as /init and the kernel's <paramref name="modules"/> (names without ".ko") at the root.</summary>
    public static byte[] Initrd(string script, IEnumerable<string> modules) =>
        StockLinux.InitrdWithModules(script, [.. modules.Select(m => m + ".ko")]);

    /// <summary>What the guest said after "<paramref name="prefix"/> failed " on its console, or null when it has no such line.</summary>
    public static string? Failure(string console, string prefix)
    {
        string failed = $"{prefix} failed ";
        return console.Split('\n').FirstOrDefault(l => l.StartsWith(failed, StringComparison.Ordinal)) is { } line ? line[failed.Length..].Trim() : null;
    }

    /// <summary>Throws with one line, naming <paramref name="who"/> and what the guest said, when its console has a "<paramref name="prefix"/> failed" line.</summary>
    public static void ThrowIfFailed(string console, string prefix, string who)
    {
        if (Failure(console, prefix) is { } failure)
            throw new BenchUsageException($"{who}: the guest failed: {failure}");
    }
}
