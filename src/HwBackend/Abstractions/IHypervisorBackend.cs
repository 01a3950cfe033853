namespace Actors.HwBackend.Abstractions;

/// <summary>A way to run guests on this host: Linux KVM or the software CPU.</summary>
public interface IHypervisorBackend
{
    string Name { get; }

    BackendCapabilities Capabilities { get; }

    IVirtualMachine CreateMachine(MachineConfiguration configuration);
}
