namespace Actors.HwBackend.Hosting;

/// <summary>The life cycle of a <see cref="VirtualMachineHost"/>: Created, then Running and Paused any number of times, then Stopped for good.</summary>
public enum VmHostState
{
    Created,
    Running,
    Paused,
    Stopped,
}
