namespace Actors.HwBackend.VmBus.IntegrationServices;

/// <summary>What a shutdown request asks of the guest.</summary>
public enum ShutdownKind
{
    PowerOff,
    Restart,
}
