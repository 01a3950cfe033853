using Actors.Grains.Worker;
using Actors.HwBackend.Worker;

namespace Actors.Grains.Hosts;

/// <summary>
/// A VM arriving by live migration: an empty machine filling with pages, not yet started, and its
/// console drain already attached to the stream so the switch-over does not wait for it.
/// </summary>
internal sealed record IncomingMachine(VmWorker Machine, VmConfiguration Configuration, ConsolePump Console, Task ConsoleDrained);
