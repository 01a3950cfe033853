using System.CommandLine;
using Actors.Client;
using Actors.Grains;

namespace Actors.Hvctl;

/// <summary><c>hvctl switch ...</c>: virtual switches, whose ports are VMs' network adapters wherever those VMs run.</summary>
internal static class SwitchCommands
{
    public static Command Build(CommonOptions options, HvctlIo io)
    {
        var command = new Command("switch", "create, list, show and delete virtual switches (VMs' network adapters are their ports)");
        command.Add(Create(options, io));
        command.Add(List(options, io));
        command.Add(Show(options, io));
        command.Add(Delete(options, io));
        return command;
    }

    private static Argument<string> NameArgument() => new("NAME") { Description = "the switch's name: letters, digits, '-', '_' and '.'" };

    private static Command Create(CommonOptions options, HvctlIo io)
    {
        Argument<string> name = NameArgument();
        var command = new Command("create", "define a switch with no ports") { name };
        command.SetAction(async (parsed, ct) =>
        {
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            SwitchInfo created = await client.CreateSwitchAsync(parsed.GetRequiredValue(name)).ConfigureAwait(false);
            await io.Out.WriteLineAsync($"{created.Name}: created").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CommonOptions options, HvctlIo io)
    {
        var command = new Command("list", "list switches: NAME PORTS CREATED");
        command.SetAction(async (parsed, ct) =>
        {
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            IReadOnlyList<SwitchInfo> switches = await client.ListSwitchesAsync().ConfigureAwait(false);
            SwitchStatus[] statuses = await Task.WhenAll(switches.Select(s => client.GetSwitchStatusAsync(s.Name))).ConfigureAwait(false);
            await io.Out.WriteAsync(ClusterTables.FormatSwitches(switches.Zip(statuses))).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Show(CommonOptions options, HvctlIo io)
    {
        Argument<string> name = NameArgument();
        var command = new Command("show", "a switch's ports: PORT MAC HOST, frames and bytes each way (in: from the VM), frames dropped") { name };
        command.SetAction(async (parsed, ct) =>
        {
            string switchName = parsed.GetRequiredValue(name);
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            SwitchInfo info = await client.GetSwitchAsync(switchName).ConfigureAwait(false)
                ?? throw new HypervisorClientException($"no switch '{switchName}': see 'hvctl switch list'");
            SwitchStatus status = await client.GetSwitchStatusAsync(switchName).ConfigureAwait(false);
            await io.Out.WriteAsync(ClusterTables.FormatSwitch(info, status)).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Delete(CommonOptions options, HvctlIo io)
    {
        Argument<string> name = NameArgument();
        var command = new Command("delete", "delete a switch (refused while a VM's adapter is plugged into it)") { name };
        command.SetAction(async (parsed, ct) =>
        {
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            await client.DeleteSwitchAsync(parsed.GetRequiredValue(name)).ConfigureAwait(false);
            await io.Out.WriteLineAsync($"{parsed.GetRequiredValue(name)}: deleted").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }
}
