namespace Actors.HwBackend.Worker;

/// <summary>The life cycle of a <see cref="VmWorker"/>: Created, then Running and Paused any number of times, then Stopped for good.</summary>
public enum VmWorkerState
{
    Created,
    Running,
    Paused,
    Stopped,
}
