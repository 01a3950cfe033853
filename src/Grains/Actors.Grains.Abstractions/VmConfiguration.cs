namespace Actors.Grains;

/// <summary>
/// What a VM is: its image (by content id in the image store), memory, vCPUs, preferred host,
/// named fw_cfg files its guest can read (as QEMU's <c>-fw_cfg name=...,string=...</c>), and for a
/// Linux kernel its initrd (an image store id) and command line (QEMU's <c>-initrd</c>, <c>-append</c>),
/// whether the guest sees Hyper-V (the enlightenments, SynIC and VMBus), and which host's silo runs
/// the VSPs that can serve it from another host than its own (today the heartbeat; null: the VM's
/// own worker serves every device). A VM that moves keeps its VSPs where they are. Its disks (by
/// name, LUN 0, 1, ... of its synthetic SCSI controller; "" is a LUN a disk was detached from) stay
/// on the hosts that hold them; its network adapters' ports follow it on their virtual switches.
/// </summary>
/// <param name="ImageId">The image store id of the image (or Linux kernel) to boot.</param>
/// <param name="MemoryBytes">Guest RAM in bytes: 1 MiB to 64 GiB, a multiple of 4 KiB.</param>
/// <param name="ProcessorCount">Virtual processors, 1 to 64.</param>
/// <param name="PreferredHost">The host to start on, or null for the host with the most free memory.</param>
/// <param name="ImageName">The image's file name as created, for people; null when not known.</param>
/// <param name="FirmwareFiles">fw_cfg files by name (1-55 bytes) with their contents (at most 4 KiB each, 32 files), or null.</param>
/// <param name="InitrdId">The image store id of a Linux initrd, or null.</param>
/// <param name="CommandLine">A Linux kernel command line (1-4096 bytes, no NUL), or null.</param>
/// <param name="Enlightened">Whether the guest sees Hyper-V: the enlightenments, SynIC and VMBus with its integration services.</param>
/// <param name="VspHost">The host whose silo serves the VM's heartbeat VSP, or null for the VM's own worker; needs <paramref name="Enlightened"/>.</param>
/// <param name="Disks">Disk names by LUN of the synthetic SCSI controller (at most 8; "" for a free LUN), or null; needs <paramref name="Enlightened"/>.</param>
/// <param name="Nics">Network adapters (at most 8), or null; needs <paramref name="Enlightened"/>.</param>
/// <param name="Backend">The hardware backend its host must or should run (<c>vm create --backend</c>), or null for any.</param>
/// <param name="CpuTier">How the software CPU runs it (<c>interpreter</c> or <c>translator</c>, <c>vm create --cpu-tier</c>), or null for its host's choice; KVM hosts ignore it.</param>
[GenerateSerializer]
[Alias("Actors.VmConfiguration")]
public sealed record VmConfiguration(
    [property: Id(0)] string ImageId,
    [property: Id(1)] ulong MemoryBytes,
    [property: Id(2)] int ProcessorCount,
    [property: Id(3)] string? PreferredHost,
    [property: Id(4)] string? ImageName = null,
    [property: Id(5)] Dictionary<string, string>? FirmwareFiles = null,
    [property: Id(6)] string? InitrdId = null,
    [property: Id(7)] string? CommandLine = null,
    [property: Id(8)] bool Enlightened = false,
    [property: Id(9)] string? VspHost = null,
    [property: Id(10)] IReadOnlyList<string>? Disks = null,
    [property: Id(11)] IReadOnlyList<NetworkAdapterConfiguration>? Nics = null,
    [property: Id(12)] BackendPlacement? Backend = null,
    [property: Id(13)] string? CpuTier = null)
{
    /// <summary>The software CPU's tiers, by their names in <see cref="CpuTier"/>.</summary>
    public static readonly IReadOnlyList<string> CpuTiers = ["interpreter", "translator"];

    /// <summary>The longest kernel command line, in UTF-8 bytes.</summary>
    public const int MaximumCommandLineBytes = 4096;

    /// <summary>The most fw_cfg files a VM may have.</summary>
    public const int MaximumFirmwareFiles = 32;
    /// <summary>The largest fw_cfg file's contents, in UTF-8 bytes.</summary>
    public const int MaximumFirmwareFileBytes = 4096;

    /// <summary>The most disks (LUNs) on a VM's SCSI controller.</summary>
    public const int MaximumDisks = 8;

    /// <summary>The most network adapters a VM may have.</summary>
    public const int MaximumNics = 8;

    /// <summary>The least guest RAM, in bytes (1 MiB).</summary>
    public const ulong MinimumMemoryBytes = 1UL << 20;
    /// <summary>The most guest RAM, in bytes (64 GiB).</summary>
    public const ulong MaximumMemoryBytes = 64UL << 30;
    /// <summary>The most virtual processors.</summary>
    public const int MaximumProcessors = 64;

    /// <summary>The first problem with this configuration as a one-line message, or null when it is valid.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(ImageId)) return "no image given";
        if (MemoryBytes < MinimumMemoryBytes || MemoryBytes > MaximumMemoryBytes)
            return $"memory must be between 1M and 64G, got {MemoryBytes} bytes";
        if (MemoryBytes % 4096 != 0) return "memory must be a multiple of 4K";
        if (ProcessorCount < 1 || ProcessorCount > MaximumProcessors)
            return $"vCPU count must be between 1 and {MaximumProcessors}, got {ProcessorCount}";
        if (CommandLine is { } line && (line.Length == 0 || line.Contains('\0') || System.Text.Encoding.UTF8.GetByteCount(line) > MaximumCommandLineBytes))
            return $"the kernel command line must be 1-{MaximumCommandLineBytes} bytes without NUL";
        if (Backend?.Validate() is { } badBackend)
            return badBackend;
        if (CpuTier is { } tier && !CpuTiers.Contains(tier))
            return $"CPU tier must be {string.Join(" or ", CpuTiers)}, not '{tier}'";
        if (VspHost is { } vspHost)
        {
            if (!Enlightened)
                return "a VSP host serves VMBus devices, which only a VM that sees Hyper-V has (--hyperv)";
            if (vspHost.Length == 0 || vspHost.Contains('/'))
                return $"'{vspHost}' is not a host name";
        }
        if (Disks is { Count: > 0 } disks)
        {
            if (!Enlightened)
                return "disks are on the synthetic SCSI controller, which only a VM that sees Hyper-V has (--hyperv)";
            if (disks.Count > MaximumDisks)
                return $"at most {MaximumDisks} disks, got {disks.Count}";
            if (disks.FirstOrDefault(d => d.Length > 0 && !IsDiskName(d)) is { } bad)
                return $"'{bad}' is not a disk name (1-64 letters, digits, '-', '_' and '.')";
            if (disks.Where(d => d.Length > 0).Distinct(StringComparer.Ordinal).Count() != disks.Count(d => d.Length > 0))
                return "a disk is attached twice";
        }
        if (Nics is { Count: > 0 } nics)
        {
            if (!Enlightened)
                return "network adapters are synthetic (VMBus) devices, which only a VM that sees Hyper-V has (--hyperv)";
            if (nics.Count > MaximumNics)
                return $"at most {MaximumNics} network adapters, got {nics.Count}";
            if (nics.FirstOrDefault(n => !IsDiskName(n.Switch)) is { } badSwitch)
                return $"'{badSwitch.Switch}' is not a switch name (1-64 letters, digits, '-', '_' and '.')";
            if (nics.FirstOrDefault(n => n.Mac is { } mac && !NetworkAdapterConfiguration.IsUnicastAddress(mac)) is { } badMac)
                return $"'{badMac.Mac}' is not a unicast MAC address (six hex bytes joined by ':')";
        }
        if (FirmwareFiles is { } files)
        {
            if (files.Count > MaximumFirmwareFiles)
                return $"at most {MaximumFirmwareFiles} fw_cfg files, got {files.Count}";
            foreach ((string name, string value) in files)
            {
                if (string.IsNullOrEmpty(name) || System.Text.Encoding.UTF8.GetByteCount(name) > 55 || name.Contains('\0'))
                    return $"fw_cfg file name '{name}' must be 1-55 bytes without NUL";
                if (System.Text.Encoding.UTF8.GetByteCount(value) > MaximumFirmwareFileBytes)
                    return $"fw_cfg file '{name}' is longer than {MaximumFirmwareFileBytes} bytes";
            }
        }

        return null;
    }

    /// <summary>Disk names are file names on their host: 1-64 letters, digits, '-', '_' and '.', not starting with '.'.</summary>
    public static bool IsDiskName(string name) =>
        name.Length is > 0 and <= 64 && name[0] != '.' && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>Virtual switch names follow the disk names' rule: one rule for every named thing a VM plugs into.</summary>
    public static bool IsSwitchName(string name) => IsDiskName(name);
}
