using System.CommandLine;
using Actors.Client;
using Actors.Grains;

namespace Actors.Hvctl;

/// <summary><c>hvctl run IMAGE</c>: boot one guest like <c>qemu-system-x86_64 -kernel</c> would, through the grains.</summary>
internal static class RunCommand
{
    public const string EmbeddedHostName = "local";

    public static Command Build(CommonOptions options, HvctlIo io)
    {
        var image = new Argument<string?>("IMAGE") { Description = "guest image file (bzImage, ELF, Multiboot); or use --kernel", Arity = ArgumentArity.ZeroOrOne };
        var boot = new BootOptions();
        var memory = new Option<string>("--memory") { Description = "guest RAM, e.g. 64M or 1G", DefaultValueFactory = _ => "64M", HelpName = "size" };
        var vcpus = new Option<int>("--vcpus") { Description = "virtual processors", DefaultValueFactory = _ => 1, HelpName = "count" };
        var backend = new Option<string>("--backend")
        {
            Description = "the backend the guest runs on: kvm or emulator (required), prefer:kvm or prefer:emulator, or auto (any); "
                + "without --gateway, the embedded silo's (auto and prefer:kvm: KVM where /dev/kvm opens, else the software CPU)",
            DefaultValueFactory = _ => "auto",
        };
        backend.AcceptOnlyFromAmong(["auto", .. BackendOption.Placements]);

        var command = new Command(
            "run",
            "boot a guest image or Linux kernel, stream its console to stdout and exit with the guest's status: "
            + "0 for an ACPI poweroff, (value << 1) | 1 for a write to isa-debug-exit, "
            + $"{ExitCodes.GuestReset} for a reset or reboot, {ExitCodes.GuestFailed} for a triple fault or another failure, "
            + $"{ExitCodes.GuestStopped} for a guest stopped without any of these; "
            + "without --gateway it starts a one-silo cluster in this process")
        {
            image, memory, vcpus, backend,
        };
        boot.AddTo(command);
        command.SetAction(async (parsed, ct) =>
        {
            GuestBoot guest = boot.Resolve(parsed, parsed.GetValue(image));
            string imagePath = guest.ImagePath;
            ulong memoryBytes = CommonOptions.ParseMemory(parsed.GetRequiredValue(memory));
            int processors = parsed.GetValue(vcpus);
            CommonOptions.CheckShape(memoryBytes, processors);
            string? gateway = options.ExplicitGateway(parsed);
            BackendPlacement? placement = BackendOption.Parse(parsed.GetRequiredValue(backend));

            string vmName = GuestRun.UniqueVmName(imagePath);
            if (gateway is null)
            {
                await using EmbeddedCluster cluster = await EmbeddedCluster
                    .StartAsync([EmbeddedHostName], EmbeddedSiloBackend(placement), ct).ConfigureAwait(false);
                VmStatus final = await GuestRun.BootAndStreamAsync(
                    cluster.Client, vmName, guest, memoryBytes, processors, null, io.StandardOutput, ct, placement).ConfigureAwait(false);
                return GuestRun.ExitCodeFor(final, io.Error);
            }

            // Against a cluster, --backend places the guest: a required backend no host runs is refused with one line.
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            try
            {
                VmStatus final = await GuestRun.BootAndStreamAsync(
                    client, vmName, guest, memoryBytes, processors, null, io.StandardOutput, ct, placement).ConfigureAwait(false);
                return GuestRun.ExitCodeFor(final, io.Error);
            }
            finally
            {
                await DeleteQuietlyAsync(client, vmName).ConfigureAwait(false);
            }
        });
        return command;
    }

    /// <summary>
    /// The embedded silo's <c>--backend</c> for a placement: the required backend itself; for a preference, the
    /// preferred one where it can be had (auto tries KVM and falls back; the software CPU is always there).
    /// </summary>
    private static string EmbeddedSiloBackend(BackendPlacement? placement) => placement switch
    {
        null => "auto",
        { Required: true } => placement.Backend,
        { Backend: BackendPlacement.Kvm } => "auto",
        _ => placement.Backend,
    };

    // A shared cluster should not collect one stopped VM per 'hvctl run'.
    private static async Task DeleteQuietlyAsync(HypervisorClient client, string vmName)
    {
        try
        {
            VmStatus status = await client.GetVmAsync(vmName).ConfigureAwait(false);
            if (VmLifecycle.CanDelete(status.State))
                await client.DeleteVmAsync(vmName).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Never created, or the cluster is gone: nothing to clean up that we can reach.
        }
    }
}
