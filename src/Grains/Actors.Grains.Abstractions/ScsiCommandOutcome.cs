namespace Actors.Grains;

/// <summary>
/// What a SCSI command came to on a disk's host: its status (0 GOOD, 2 CHECK CONDITION), the bytes
/// it moved, its sense data, and for a command that reads, the data.
/// </summary>
[GenerateSerializer]
[Alias("Actors.ScsiCommandOutcome")]
public sealed record ScsiCommandOutcome(
    [property: Id(0)] byte Status,
    [property: Id(1)] int Transferred,
    [property: Id(2)] byte[] Sense,
    [property: Id(3)] byte[]? DataIn);
