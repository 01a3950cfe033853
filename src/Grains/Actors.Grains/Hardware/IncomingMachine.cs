using Actors.HwBackend.Hosting;

namespace Actors.Grains.Hardware;

/// <summary>A VM arriving by live migration: an empty machine filling with pages, not yet started.</summary>
internal sealed record IncomingMachine(VirtualMachineHost Machine, VmConfiguration Configuration, ConsolePump Console);
