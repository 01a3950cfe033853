using System.CommandLine;
using Actors.Client;
using Actors.Grains;
using Actors.Hvctl.Output;

namespace Actors.Hvctl;

/// <summary><c>hvctl disk ...</c>: virtual disks, each held by one host's disk store and attached to VMs by name.</summary>
internal static class DiskCommands
{
    public static Command Build(CommonOptions options, HvctlIo io)
    {
        var disk = new Command("disk", "create, list and delete virtual disks, and attach them to VMs and detach them, running or not (a VM also gets them with 'vm create --hyperv --disk NAME')");
        disk.Add(Create(options, io));
        disk.Add(List(options, io));
        disk.Add(Delete(options, io));
        disk.Add(Attach(options, io));
        disk.Add(Detach(options, io));
        return disk;
    }

    private static Command Create(CommonOptions options, HvctlIo io)
    {
        var name = new Argument<string>("NAME") { Description = "the disk's name: letters, digits, '-', '_' and '.'" };
        var size = new Option<string?>("--size") { Description = "its size, e.g. 512M or 2G (an empty disk)", HelpName = "size" };
        var from = new Option<string?>("--from") { Description = "a raw disk image file: the disk starts as the image, which stays as it is (copy-on-write), and has its size", HelpName = "image" };
        var host = new Option<string?>("--host") { Description = "the host whose disk store holds it (default: the first host by name)", HelpName = "host" };
        var command = new Command("create", "make a disk in a host's disk store: empty (--size) or over an image (--from)") { name, size, from, host };
        command.SetAction(async (parsed, ct) =>
        {
            (string? sizeText, string? image) = (parsed.GetValue(size), parsed.GetValue(from));
            if ((sizeText is null) == (image is null))
                throw new UsageException("give the disk --size (an empty disk) or --from IMAGE (a disk over an image), one of the two");
            ulong bytes = sizeText is null ? 0 : CommonOptions.ParseMemory(sizeText);
            if (sizeText is not null && (bytes % 512 != 0 || bytes is < (ulong)IDiskCatalogGrain.MinimumSizeBytes or > (ulong)IDiskCatalogGrain.MaximumSizeBytes))
                throw new UsageException("--size must be 1M to 2T in whole 512-byte sectors");
            if (image is not null)
                CommonOptions.CheckImageFile(image);
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            DiskInfo created = image is null
                ? await client.CreateDiskAsync(parsed.GetRequiredValue(name), (long)bytes, parsed.GetValue(host)).ConfigureAwait(false)
                : await client.CreateDiskFromImageAsync(parsed.GetRequiredValue(name), image, parsed.GetValue(host), ct, new UploadProgressDisplay(io)).ConfigureAwait(false);
            string over = image is null ? "" : $", over {Path.GetFileName(image)}";
            await io.Out.WriteLineAsync($"{created.Name}: {SizeParser.Format((ulong)created.SizeBytes)} on {created.Host}{over}").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CommonOptions options, HvctlIo io)
    {
        Option<OutputFormat> output = OutputOption.Create();
        var command = new Command("list", "list disks: NAME SIZE HOST CREATED") { output };
        command.SetAction(async (parsed, ct) =>
        {
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            IReadOnlyList<DiskInfo> disks = await client.ListDisksAsync().ConfigureAwait(false);
            await io.Out.WriteAsync(OutputRenderer.Render(
                parsed.GetValue(output),
                () => ClusterTables.FormatDisks(disks),
                () => (IReadOnlyList<DiskView>)[.. disks.Select(DiskView.From)],
                OutputJsonContext.Default.IReadOnlyListDiskView)).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Delete(CommonOptions options, HvctlIo io)
    {
        var name = new Argument<string>("NAME") { Description = "the disk's name" };
        var command = new Command("delete", "delete a disk and its data (refused while a running VM holds it)") { name };
        command.SetAction(async (parsed, ct) =>
        {
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            await client.DeleteDiskAsync(parsed.GetRequiredValue(name)).ConfigureAwait(false);
            await io.Out.WriteLineAsync($"{parsed.GetRequiredValue(name)}: deleted").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Attach(CommonOptions options, HvctlIo io)
    {
        var name = new Argument<string>("NAME") { Description = "the disk's name" };
        var vm = new Argument<string>("VM") { Description = "the VM (created with --hyperv); a running one finds the disk as a new SCSI disk" };
        var command = new Command("attach", "add a disk to a VM's SCSI controller at its first free LUN, while it runs or not") { name, vm };
        command.SetAction(async (parsed, ct) =>
        {
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            int lun = await client.AttachDiskAsync(parsed.GetRequiredValue(vm), parsed.GetRequiredValue(name)).ConfigureAwait(false);
            await io.Out.WriteLineAsync($"{parsed.GetRequiredValue(name)}: attached to {parsed.GetRequiredValue(vm)} at LUN {lun}").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Detach(CommonOptions options, HvctlIo io)
    {
        var name = new Argument<string>("NAME") { Description = "the disk's name" };
        var vm = new Argument<string>("VM") { Description = "the VM it is attached to; a running one loses the disk as it would a disk pulled out" };
        var command = new Command("detach", "take a disk off a VM's SCSI controller, while it runs or not") { name, vm };
        command.SetAction(async (parsed, ct) =>
        {
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            await client.DetachDiskAsync(parsed.GetRequiredValue(vm), parsed.GetRequiredValue(name)).ConfigureAwait(false);
            await io.Out.WriteLineAsync($"{parsed.GetRequiredValue(name)}: detached from {parsed.GetRequiredValue(vm)}").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }
}
