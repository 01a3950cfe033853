using Actors.HwBackend.Hosting;

namespace Actors.Grains.Hardware;

/// <summary>
/// A VM arriving by live migration: an empty machine filling with pages, not yet started, and its
/// console drain already attached to the stream so the switch-over does not wait for it.
/// </summary>
internal sealed record IncomingMachine(VirtualMachineHost Machine, VmConfiguration Configuration, ConsolePump Console, Task ConsoleDrained);
