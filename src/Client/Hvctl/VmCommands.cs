using System.CommandLine;
using System.Globalization;
using System.Text;
using Actors.Client;
using Actors.Grains;
using Actors.Hvctl.Output;

namespace Actors.Hvctl;

/// <summary><c>hvctl vm ...</c>: define, drive, inspect and attach to VMs.</summary>
internal static class VmCommands
{
    public static Command Build(CommonOptions options, HvctlIo io)
    {
        var vm = new Command("vm", "create, start, stop, list and attach to VMs");
        vm.Add(Create(options, io));
        vm.Add(Transition("start", "boot a VM on its preferred host or the one with most free memory", options, io, (c, n) => c.StartVmAsync(n)));
        vm.Add(Transition("stop", "stop a running or paused VM", options, io, (c, n) => c.StopVmAsync(n)));
        vm.Add(Transition("pause", "pause a running VM's vCPUs", options, io, (c, n) => c.PauseVmAsync(n)));
        vm.Add(Transition("resume", "resume a paused VM", options, io, (c, n) => c.ResumeVmAsync(n)));
        vm.Add(Shutdown(GuestShutdownKind.PowerOff, options, io));
        vm.Add(Shutdown(GuestShutdownKind.Restart, options, io));
        vm.Add(Kvp(options, io));
        vm.Add(Delete(options, io));
        vm.Add(List(options, io));
        vm.Add(Show(options, io));
        vm.Add(Bus(options, io));
        vm.Add(Console(options, io));
        vm.Add(MigrateCommands.Migrate(options, io));
        vm.Add(MigrateCommands.List(options, io));
        return vm;
    }

    private static Argument<string> NameArgument() => new("NAME") { Description = "the VM's name" };

    private static Command Create(CommonOptions options, HvctlIo io)
    {
        Argument<string> name = NameArgument();
        var image = new Option<string?>("--image") { Description = "guest image file (bzImage, ELF, Multiboot); or use --kernel", HelpName = "path" };
        var boot = new BootOptions();
        var memory = new Option<string>("--memory") { Description = "guest RAM, e.g. 64M or 1G", DefaultValueFactory = _ => "64M", HelpName = "size" };
        var vcpus = new Option<int>("--vcpus") { Description = "virtual processors", DefaultValueFactory = _ => 1, HelpName = "count" };
        var host = new Option<string?>("--host") { Description = "preferred host", HelpName = "host" };
        var fwCfg = new Option<string[]>("--fw-cfg") { Description = "a named fw_cfg file for the guest, as QEMU's -fw_cfg (repeatable), e.g. opt/actors/passes=0", HelpName = "name=value", Arity = ArgumentArity.ZeroOrMore };
        Option<string?> backend = BackendOption.ForCreate();
        var replace = new Option<bool>("--replace") { Description = "redefine the VM if one of that name exists (it must not be running); without it an existing name is refused" };
        var command = new Command("create", "define a VM from a guest image or Linux kernel (it stays off until 'vm start')") { name, image, memory, vcpus, host, backend, fwCfg, replace };
        boot.AddTo(command);
        command.SetAction(async (parsed, ct) =>
        {
            string vmName = parsed.GetRequiredValue(name);
            GuestBoot guest = boot.Resolve(parsed, parsed.GetValue(image));
            ulong memoryBytes = CommonOptions.ParseMemory(parsed.GetRequiredValue(memory));
            int processors = parsed.GetValue(vcpus);
            CommonOptions.CheckShape(memoryBytes, processors);
            Dictionary<string, string>? files = ParseFirmwareFiles(parsed.GetValue(fwCfg));
            BackendPlacement? placement = BackendOption.Parse(parsed.GetValue(backend));
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            VmStatus status = await client.CreateVmAsync(vmName, guest.ImagePath, memoryBytes, processors, parsed.GetValue(host), ct, files, guest.InitrdPath, guest.CommandLine, guest.Enlightened, guest.VspHost, guest.Disks, guest.Nics, new UploadProgressDisplay(io), parsed.GetValue(replace), placement, guest.CpuTier).ConfigureAwait(false);
            await io.Out.WriteLineAsync($"{status.Name}: {status.State}").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>"name=value" pairs; a missing '=' or a repeated name is a usage error.</summary>
    private static Dictionary<string, string>? ParseFirmwareFiles(string[]? pairs)
    {
        if (pairs is null || pairs.Length == 0)
            return null;
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in pairs)
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                throw new UsageException($"bad --fw-cfg '{pair}': use name=value, e.g. opt/actors/passes=0");
            if (!files.TryAdd(pair[..equals], pair[(equals + 1)..]))
                throw new UsageException($"--fw-cfg '{pair[..equals]}' is given twice");
        }

        return files;
    }

    private static Command Transition(
        string verb, string description, CommonOptions options, HvctlIo io, Func<HypervisorClient, string, Task<VmStatus>> operation)
    {
        Argument<string> name = NameArgument();
        var command = new Command(verb, description) { name };
        command.SetAction(async (parsed, ct) =>
        {
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            VmStatus status = await operation(client, parsed.GetRequiredValue(name)).ConfigureAwait(false);
            string where = status.Host is null ? string.Empty : $" on {status.Host}";
            await io.Out.WriteLineAsync($"{status.Name}: {status.State}{where}").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// <c>vm shutdown</c> and <c>vm reboot</c>: ask the guest through its shutdown integration
    /// service, then wait until it is off (or has started again). Unlike <c>vm stop</c>, the guest
    /// finishes its work and writes its disks first.
    /// </summary>
    private static Command Shutdown(GuestShutdownKind kind, CommonOptions options, HvctlIo io)
    {
        bool restart = kind == GuestShutdownKind.Restart;
        Argument<string> name = NameArgument();
        var timeout = new Option<int>("--timeout") { Description = "seconds to wait for the guest to finish", DefaultValueFactory = _ => 120, HelpName = "seconds" };
        var command = new Command(
            restart ? "reboot" : "shutdown",
            restart
                ? "ask a running guest to restart cleanly (needs --hyperv and the guest's hv_utils); waits until it runs again"
                : "ask a running guest to power off cleanly (needs --hyperv and the guest's hv_utils); waits until it is off")
        { name, timeout };
        command.SetAction(async (parsed, ct) =>
        {
            string vmName = parsed.GetRequiredValue(name);
            int seconds = parsed.GetValue(timeout);
            if (seconds <= 0)
                throw new UsageException($"--timeout must be a positive number of seconds, not {seconds}");
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            VmStatus before = await client.ShutdownVmAsync(vmName, kind).ConfigureAwait(false);
            // A restarted guest's VM is Running again with a later start; a shut-down one is Off.
            VmStatus after = await client.WaitForStateAsync(
                vmName,
                s => restart ? s.State == VmState.Running && s.StartedAt > before.StartedAt : VmLifecycle.CanStart(s.State),
                TimeSpan.FromSeconds(seconds),
                ct).ConfigureAwait(false);
            string how = restart ? $" on {after.Host} (restarted)" : after.EndReason is { } reason ? $" ({reason})" : string.Empty;
            await io.Out.WriteLineAsync($"{after.Name}: {after.State}{how}").ConfigureAwait(false);
            return after.State is VmState.Off or VmState.Running ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    private static Command Kvp(CommonOptions options, HvctlIo io)
    {
        Argument<string> name = NameArgument();
        var key = new Argument<string>("KEY") { Description = "the key, up to 255 characters" };
        var value = new Argument<string>("VALUE") { Description = "the value, up to 1023 characters" };
        var command = new Command("kvp", "give a running guest a key/value pair through its KVP integration service (needs --hyperv and the guest's hv_kvp_daemon)") { name, key, value };
        command.SetAction(async (parsed, ct) =>
        {
            string vmName = parsed.GetRequiredValue(name);
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            await client.SetGuestValueAsync(vmName, parsed.GetRequiredValue(key), parsed.GetRequiredValue(value)).ConfigureAwait(false);
            await io.Out.WriteLineAsync($"{vmName}: {parsed.GetRequiredValue(key)} queued for the guest").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Bus(CommonOptions options, HvctlIo io)
    {
        Argument<string> name = NameArgument();
        Option<OutputFormat> output = OutputOption.Create();
        var command = new Command("bus", "show a running VM's VMBus (needs --hyperv): its version, and each channel with its state, VP, ring and where its VSP runs") { name, output };
        command.SetAction(async (parsed, ct) =>
        {
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            VmBusStatus bus = await client.GetVmBusAsync(parsed.GetRequiredValue(name)).ConfigureAwait(false);
            await io.Out.WriteAsync(OutputRenderer.Render(
                parsed.GetValue(output),
                () => ClusterTables.FormatVmBus(bus),
                () => VmBusView.From(parsed.GetRequiredValue(name), bus),
                OutputJsonContext.Default.VmBusView)).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Delete(CommonOptions options, HvctlIo io)
    {
        Argument<string> name = NameArgument();
        var command = new Command("delete", "remove a VM that is not running") { name };
        command.SetAction(async (parsed, ct) =>
        {
            string vmName = parsed.GetRequiredValue(name);
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            await client.DeleteVmAsync(vmName).ConfigureAwait(false);
            await io.Out.WriteLineAsync($"{vmName}: deleted").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CommonOptions options, HvctlIo io)
    {
        Option<OutputFormat> output = OutputOption.Create();
        var watch = new WatchOptions();
        var command = new Command("list", "list all VMs: NAME STATE HOST MEMORY VCPUS HEARTBEAT") { output };
        watch.AddTo(command);
        command.SetAction(async (parsed, ct) =>
        {
            OutputFormat format = parsed.GetValue(output);
            TimeSpan? every = watch.Every(parsed);
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            return await WatchOptions.RunAsync(io, format, every, async oneLine =>
            {
                IReadOnlyList<VmStatus> vms = await client.ListVmsAsync().ConfigureAwait(false);
                return OutputRenderer.Render(
                    format,
                    () => ClusterTables.FormatVms(vms),
                    () => (IReadOnlyList<VmView>)[.. vms.Select(VmView.From)],
                    OutputJsonContext.Default.IReadOnlyListVmView,
                    oneLine);
            }, ct).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Show(CommonOptions options, HvctlIo io)
    {
        Argument<string> name = NameArgument();
        Option<OutputFormat> output = OutputOption.Create();
        var command = new Command("show", "a VM's configuration, state, placement and counters") { name, output };
        command.SetAction(async (parsed, ct) =>
        {
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            VmStatus status = await client.GetVmAsync(parsed.GetRequiredValue(name)).ConfigureAwait(false);
            await io.Out.WriteAsync(OutputRenderer.Render(
                parsed.GetValue(output), () => FormatDetails(status), () => VmView.From(status), OutputJsonContext.Default.VmView)).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    internal static string FormatDetails(VmStatus status)
    {
        VmConfiguration config = status.Configuration;
        var rows = new List<(string, string)>
        {
            ("name", status.Name),
            ("state", status.State.ToString()),
            ("host", status.Host ?? "-"),
            ("preferred host", config.PreferredHost ?? "-"),
            ("backend", Describe(config.Backend)),
            ("image", config.ImageName ?? "-"),
            ("image id", config.ImageId),
            ("memory", SizeParser.Format(config.MemoryBytes)),
            ("vcpus", config.ProcessorCount.ToString(CultureInfo.InvariantCulture)),
            ("started", status.StartedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "-"),
            ("instructions", status.InstructionsRetired.ToString(CultureInfo.InvariantCulture)),
            ("cpu tier", status.CpuTier ?? config.CpuTier ?? "-"),
            ("console bytes", status.ConsoleBytes.ToString(CultureInfo.InvariantCulture)),
            ("exit status", status.ExitStatus?.ToString(CultureInfo.InvariantCulture) ?? "-"),
            ("ended by", status.EndReason ?? "-"),
        };
        if (config.CommandLine is not null)
            rows.Insert(6, ("command line", config.CommandLine));
        if (config.Enlightened)
        {
            rows.Add(("vsp host", config.VspHost ?? "-"));
            rows.Add(("disks", config.Disks is { Count: > 0 } disks ? string.Join(", ", disks.Select(d => d.Length > 0 ? d : "-")) : "-"));
            rows.Add(("nics", config.Nics is { Count: > 0 } nics ? string.Join(", ", nics.Select((nic, i) => $"{nic.AddressOf(status.Name, i)} on {nic.Switch}")) : "-"));
            foreach (string service in status.IntegrationServices ?? ["heartbeat: -"])
            {
                int colon = service.IndexOf(':', StringComparison.Ordinal);
                rows.Add(colon < 0 ? (service, "-") : (service[..colon], service[(colon + 1)..].TrimStart()));
            }
        }
        if (status.FailureReason is not null)
            rows.Add(("failure", HvctlApp.OneLine(status.FailureReason)));

        IReadOnlyList<string> unimplemented = status.Unimplemented ?? [];
        rows.Add(("unimplemented", unimplemented.Count == 0 ? "-" : unimplemented.Count.ToString(CultureInfo.InvariantCulture)));

        int width = rows.Max(r => r.Item1.Length) + 1;
        var text = new StringBuilder();
        foreach ((string key, string value) in rows)
            text.Append((key + ":").PadRight(width + 1)).Append(value).Append('\n');
        foreach (string line in unimplemented)
            text.Append("  ").Append(line).Append('\n');
        return text.ToString();
    }

    /// <summary>How <c>vm show</c> words a VM's backend placement: "kvm (required)", "kvm (preferred)" or "any".</summary>
    internal static string Describe(BackendPlacement? backend) =>
        backend is null ? "any" : $"{backend.Backend} ({(backend.Required ? "required" : "preferred")})";

    private static Command Console(CommonOptions options, HvctlIo io)
    {
        Argument<string> name = NameArgument();
        var command = new Command(
            "console",
            "attach to a VM's serial console: a terminal goes raw (keys, Ctrl-C included, go to the guest) until the "
            + "escape character Ctrl-] detaches; the VM keeps running. The session also ends at end of input or when the VM stops") { name };
        command.SetAction(async (parsed, ct) =>
        {
            string vmName = parsed.GetRequiredValue(name);
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            VmStatus status = await client.GetVmAsync(vmName).ConfigureAwait(false);
            ConsoleSubscription subscription = await client.SubscribeConsoleAsync(vmName, ct).ConfigureAwait(false);
            if (ConsoleSession.IsStopped(status))
            {
                await subscription.DisposeAsync().ConfigureAwait(false);
                throw new HypervisorClientException($"VM '{vmName}' is {status.State}: start it with 'hvctl vm start {vmName}'");
            }

            await io.Error.WriteLineAsync($"Connected to VM '{vmName}'; escape character is ^]").ConfigureAwait(false);
            using RawTerminal terminal = RawTerminal.Enter();
            using var inputDone = CancellationTokenSource.CreateLinkedTokenSource(ct);
            Task input = ForwardInputAsync(client, vmName, io.StandardInput, inputDone.Token);
            try
            {
                // Ctrl-], end of input or (outside raw mode) Ctrl-C end the session: the user detaches, the VM keeps running.
                Task stop = Task.WhenAny(input, Task.Delay(System.Threading.Timeout.Infinite, ct));
                await ConsoleSession.PumpAsync(client, subscription, io.StandardOutput, stop, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                await inputDone.CancelAsync().ConfigureAwait(false);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Ctrl-], as in telnet and virsh console: the one byte the guest never gets.</summary>
    internal const byte EscapeCharacter = 0x1D;

    /// <summary>Sends whatever arrives on stdin to the guest's UART; completes at end of input or at the escape character.</summary>
    private static async Task ForwardInputAsync(HypervisorClient client, string vmName, Stream input, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                int read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0) return;
                int escape = Array.IndexOf(buffer, EscapeCharacter, 0, read);
                int forward = escape < 0 ? read : escape;
                if (forward > 0)
                    await client.SendConsoleInputAsync(vmName, buffer[..forward]).ConfigureAwait(false);
                if (escape >= 0) return;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
