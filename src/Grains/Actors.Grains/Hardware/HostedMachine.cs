using Actors.HwBackend.Hosting;

namespace Actors.Grains.Hardware;

/// <summary>A VM running on this host: its machine, its configuration and the console drain feeding its stream.</summary>
internal sealed record HostedMachine(VirtualMachineHost Machine, VmConfiguration Configuration, ConsolePump Console, Task ConsoleDrained);
