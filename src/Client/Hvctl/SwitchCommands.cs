using System.CommandLine;
using Actors.Client;
using Actors.Grains;
using Actors.Hvctl.Output;

namespace Actors.Hvctl;

/// <summary><c>hvctl switch ...</c>: virtual switches, whose ports are VMs' network adapters wherever those VMs run.</summary>
internal static class SwitchCommands
{
    public static Command Build(CommonOptions options, HvctlIo io)
    {
        var command = new Command("switch", "create, list, show and delete virtual switches (VMs' network adapters are their ports)");
        command.Add(OnOneSwitch(options, io, "create", "define a switch with no ports", async (client, name) =>
            $"{(await client.CreateSwitchAsync(name).ConfigureAwait(false)).Name}: created\n"));
        command.Add(List(options, io));
        command.Add(Show(options, io));
        command.Add(OnOneSwitch(options, io, "delete", "delete a switch (refused while a VM's adapter is plugged into it)", async (client, name) =>
        {
            await client.DeleteSwitchAsync(name).ConfigureAwait(false);
            return $"{name}: deleted\n";
        }));
        return command;
    }

    /// <summary>A command on the switch its NAME argument names: <paramref name="run"/> does it and says what to print.</summary>
    private static Command OnOneSwitch(CommonOptions options, HvctlIo io, string verb, string description, Func<HypervisorClient, string, Task<string>> run)
    {
        var name = new Argument<string>("NAME") { Description = "the switch's name: letters, digits, '-', '_' and '.'" };
        var command = new Command(verb, description) { name };
        command.SetAction(async (parsed, ct) =>
        {
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            await io.Out.WriteAsync(await run(client, parsed.GetRequiredValue(name)).ConfigureAwait(false)).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CommonOptions options, HvctlIo io)
    {
        Option<OutputFormat> output = OutputOption.Create();
        var command = new Command("list", "list switches: NAME PORTS CREATED") { output };
        command.SetAction(async (parsed, ct) =>
        {
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            IReadOnlyList<SwitchInfo> switches = await client.ListSwitchesAsync().ConfigureAwait(false);
            SwitchStatus[] statuses = await Task.WhenAll(switches.Select(s => client.GetSwitchStatusAsync(s.Name))).ConfigureAwait(false);
            await io.Out.WriteAsync(OutputRenderer.Render(
                parsed.GetValue(output),
                () => ClusterTables.FormatSwitches(switches.Zip(statuses)),
                () => (IReadOnlyList<SwitchView>)[.. switches.Zip(statuses, SwitchView.From)],
                OutputJsonContext.Default.IReadOnlyListSwitchView)).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Show(CommonOptions options, HvctlIo io)
    {
        var name = new Argument<string>("NAME") { Description = "the switch's name: letters, digits, '-', '_' and '.'" };
        Option<OutputFormat> output = OutputOption.Create();
        var command = new Command("show", "a switch's ports: PORT MAC HOST, frames and bytes each way (in: from the VM), frames dropped") { name, output };
        command.SetAction(async (parsed, ct) =>
        {
            string switchName = parsed.GetRequiredValue(name);
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            SwitchInfo info = await client.GetSwitchAsync(switchName).ConfigureAwait(false)
                ?? throw new HypervisorClientException($"no switch '{switchName}': see 'hvctl switch list'");
            SwitchStatus status = await client.GetSwitchStatusAsync(switchName).ConfigureAwait(false);
            await io.Out.WriteAsync(OutputRenderer.Render(
                parsed.GetValue(output),
                () => ClusterTables.FormatSwitch(info, status),
                () => SwitchView.From(info, status),
                OutputJsonContext.Default.SwitchView)).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }
}
