namespace Actors.HwBackend.VmBus.IntegrationServices;

/// <summary>What the guest said to a shutdown request.</summary>
public enum ShutdownAnswer
{
    /// <summary>It is shutting down (or restarting).</summary>
    Accepted,

    /// <summary>It answered HV_E_FAIL: it cannot do that kind of shutdown.</summary>
    Refused,

    /// <summary>The channel closed before it answered.</summary>
    Closed,
}
