namespace Actors.Grains;

/// <summary>
/// What a SCSI command came to on a disk's host: its status (0 GOOD, 2 CHECK CONDITION), the bytes
/// it moved, with CHECK CONDITION why (sense key, additional sense code and qualifier), and for a
/// command that reads, the data.
/// </summary>
[GenerateSerializer]
[Alias("Actors.ScsiCommandOutcome")]
public sealed record ScsiCommandOutcome(
    [property: Id(0)] byte Status,
    [property: Id(1)] int Transferred,
    [property: Id(2)] byte SenseKey,
    [property: Id(3)] byte Asc,
    [property: Id(4)] byte Ascq,
    [property: Id(5)] byte[]? DataIn);
