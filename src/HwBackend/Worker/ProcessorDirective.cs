namespace Actors.HwBackend.Worker;

/// <summary>What a vCPU thread does after consulting its host.</summary>
internal enum ProcessorDirective
{
    /// <summary>Enter the guest.</summary>
    Run,

    /// <summary>Take the pending INIT or start-up IPI from the local APIC, then consult the host again.</summary>
    HandleStartupEvent,

    /// <summary>The VM is stopping: leave the run loop.</summary>
    Leave,
}
