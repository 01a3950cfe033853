namespace Actors.Grains;

/// <summary>The kinds of <see cref="HypervisorException"/> a client may want to tell apart without reading the message.</summary>
[GenerateSerializer]
[Alias("Actors.HypervisorRefusal")]
public enum HypervisorRefusal
{
    /// <summary>Any refusal not named below.</summary>
    Refused = 0,

    /// <summary>Something of that name exists already, and the caller did not ask to replace it.</summary>
    AlreadyExists = 1,
}
