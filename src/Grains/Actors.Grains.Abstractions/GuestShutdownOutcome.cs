namespace Actors.Grains;

/// <summary>What became of a request to the guest's shutdown integration service.</summary>
[GenerateSerializer]
[Alias("Actors.GuestShutdownOutcome")]
public enum GuestShutdownOutcome
{
    /// <summary>The guest said it is shutting down (or restarting).</summary>
    Accepted,

    /// <summary>The guest answered that it cannot.</summary>
    Refused,

    /// <summary>The VM does not see Hyper-V, so it has no integration services.</summary>
    NotEnlightened,

    /// <summary>The guest has not opened the shutdown channel (no hv_utils), or is still agreeing on versions.</summary>
    NoChannel,

    /// <summary>The guest did not answer in time, or closed the channel first.</summary>
    NoAnswer,
}
