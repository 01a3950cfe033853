using Actors.Grains.Worker;
using Actors.HwBackend.Worker;

namespace Actors.Grains.Hosts;

/// <summary>
/// A VM running on this host: its machine, its configuration, the console drain feeding its stream,
/// and the instructions it retired on earlier hosts (a migrated VM's counter continues).
/// </summary>
internal sealed record HostedMachine(VmWorker Machine, VmConfiguration Configuration, ConsolePump Console, Task ConsoleDrained, ulong EarlierInstructions = 0)
{
    public ulong InstructionsRetired => EarlierInstructions + Machine.InstructionsRetired;
}
