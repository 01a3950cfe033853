namespace Actors.HwBackend.Worker;

/// <summary>What a run loop must do after <see cref="ExitDispatcher.Handle"/> dealt with an exit.</summary>
internal enum ExitAction
{
    /// <summary>The exit is handled (or was a stop kick the loop's own flags explain): run again.</summary>
    Continue,

    /// <summary>HLT with no interrupt source: nothing can ever wake the processor.</summary>
    Halted,

    /// <summary>Triple fault.</summary>
    TripleFault,

    /// <summary>The backend cannot continue, or reported a port access of an impossible size.</summary>
    InternalError,

    /// <summary>VMCALL/VMMCALL: the loop decides how to answer.</summary>
    Hypercall,

    /// <summary>An exit reason this handler does not know.</summary>
    Unexpected,
}
