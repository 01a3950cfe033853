using System.CommandLine;
using Actors.Grains;

namespace Actors.Hvctl;

/// <summary>
/// What to boot, as QEMU takes it: an image, or <c>--kernel</c> (a synonym, QEMU's spelling) with a
/// Linux kernel's <c>--initrd</c> and <c>--append</c>. Shared by <c>run</c> and <c>vm create</c>.
/// </summary>
internal sealed class BootOptions
{
    public Option<string?> Kernel { get; } = new("--kernel") { Description = "kernel or guest image file (bzImage, ELF, Multiboot), as QEMU's -kernel", HelpName = "path" };

    public Option<string?> Initrd { get; } = new("--initrd") { Description = "initial ramdisk for a Linux kernel, as QEMU's -initrd", HelpName = "path" };

    public Option<string?> Append { get; } = new("--append") { Description = "kernel command line, as QEMU's -append, e.g. \"console=ttyS0 panic=-1\"", HelpName = "text" };

    public Option<bool> HyperV { get; } = new("--hyperv") { Description = "the guest sees Hyper-V: its enlightenments, SynIC and VMBus with the integration services" };

    public Option<string?> VspHost { get; } = new("--vsp-host") { Description = "with --hyperv: the host whose silo serves the VM's VSPs that can run away from it (today the heartbeat); they stay there when the VM moves", HelpName = "host" };

    public Option<string[]> Disks { get; } = new("--disk") { Description = "with --hyperv: a disk ('hvctl disk create') on the VM's SCSI controller, LUN 0, 1, ... in order (repeatable)", HelpName = "name", Arity = ArgumentArity.ZeroOrMore };

    public Option<string[]> Nics { get; } = new("--nic") { Description = "with --hyperv: a network adapter on a virtual switch ('hvctl switch create'), adapter 0, 1, ... in order (repeatable); mac=... sets its address", HelpName = "switch=name[,mac=xx:xx:xx:xx:xx:xx]", Arity = ArgumentArity.ZeroOrMore };

    public Option<string?> CpuTier { get; } = CreateCpuTier();

    private static Option<string?> CreateCpuTier()
    {
        var option = new Option<string?>("--cpu-tier") { Description = "how the software CPU runs the guest: interpreter, or translator (hot code compiled to .NET); default: the host's choice. KVM hosts ignore it", HelpName = "tier" };
        option.AcceptOnlyFromAmong([.. VmConfiguration.CpuTiers]);
        return option;
    }

    public void AddTo(Command command)
    {
        command.Options.Add(CpuTier);
        command.Options.Add(Kernel);
        command.Options.Add(Initrd);
        command.Options.Add(Append);
        command.Options.Add(HyperV);
        command.Options.Add(VspHost);
        command.Options.Add(Disks);
        command.Options.Add(Nics);
    }

    /// <summary>The files and command line, checked; <paramref name="image"/> is the image given another way, if any.</summary>
    public GuestBoot Resolve(ParseResult parsed, string? image)
    {
        string? kernel = parsed.GetValue(Kernel);
        if (kernel is not null && image is not null)
            throw new UsageException("give the guest image once: as IMAGE (or --image), or as --kernel");
        string path = kernel ?? image ?? throw new UsageException("no guest to boot: give an image file (IMAGE for run, --image for vm create), or --kernel with a Linux bzImage");
        string? initrd = parsed.GetValue(Initrd);
        string? append = parsed.GetValue(Append);
        if (append is not null && append.Trim().Length == 0)
            throw new UsageException("--append is empty: give the kernel command line, e.g. --append \"console=ttyS0 panic=-1\", or leave the option out");
        bool hyperV = parsed.GetValue(HyperV);
        string? vspHost = parsed.GetValue(VspHost);
        if (vspHost is not null && !hyperV)
            throw new UsageException("--vsp-host serves VMBus devices, which only a VM created with --hyperv has");
        string[] disks = parsed.GetValue(Disks) ?? [];
        if (disks.Length > 0 && !hyperV)
            throw new UsageException("--disk attaches to the synthetic SCSI controller, which only a VM created with --hyperv has");
        string[] nics = parsed.GetValue(Nics) ?? [];
        if (nics.Length > 0 && !hyperV)
            throw new UsageException("--nic adds a synthetic network adapter, which only a VM created with --hyperv has");
        return new GuestBoot(CommonOptions.CheckImageFile(path), initrd is null ? null : CommonOptions.CheckImageFile(initrd), append, hyperV, vspHost, disks, [.. nics.Select(ParseNic)], parsed.GetValue(CpuTier));
    }

    /// <summary>switch=NAME[,mac=ADDRESS], as QEMU's -nic takes key=value pairs.</summary>
    private static NetworkAdapterConfiguration ParseNic(string text)
    {
        string? name = null, mac = null;
        foreach (string pair in text.Split(','))
        {
            string[] kv = pair.Split('=', 2);
            switch (kv)
            {
                case ["switch", { Length: > 0 } value] when name is null:
                    name = value;
                    break;
                case ["mac", { Length: > 0 } value] when mac is null:
                    mac = NetworkAdapterConfiguration.IsUnicastAddress(value) ? value : throw new UsageException($"--nic {text}: '{value}' is not a unicast MAC address (six hex bytes joined by ':')");
                    break;
                default:
                    throw new UsageException($"--nic {text}: expected switch=NAME[,mac=ADDRESS]");
            }
        }
        return new NetworkAdapterConfiguration(name ?? throw new UsageException($"--nic {text}: no switch=NAME"), mac);
    }
}

/// <summary>A guest image, for a Linux kernel its initrd and command line, whether the guest sees Hyper-V, where its movable VSPs run, its disks and its network adapters.</summary>
internal sealed record GuestBoot(string ImagePath, string? InitrdPath, string? CommandLine, bool Enlightened = false, string? VspHost = null, IReadOnlyList<string>? Disks = null, IReadOnlyList<NetworkAdapterConfiguration>? Nics = null, string? CpuTier = null);
