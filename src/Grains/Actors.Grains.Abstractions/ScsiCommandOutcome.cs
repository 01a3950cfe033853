namespace Actors.Grains;

/// <summary>
/// What a SCSI command came to on a disk's host: its status (0 GOOD, 2 CHECK CONDITION), the bytes
/// it moved, with CHECK CONDITION why (sense key, additional sense code and qualifier), and for a
/// command that reads, the data.
/// </summary>
/// <param name="Status">The SCSI status: 0 GOOD or 2 CHECK CONDITION.</param>
/// <param name="Transferred">Bytes the command moved (read or written).</param>
/// <param name="SenseKey">With CHECK CONDITION, the sense key; 0 otherwise.</param>
/// <param name="Asc">With CHECK CONDITION, the additional sense code; 0 otherwise.</param>
/// <param name="Ascq">With CHECK CONDITION, the additional sense code qualifier; 0 otherwise.</param>
/// <param name="DataIn">What a reading command returns, or null.</param>
[GenerateSerializer]
[Alias("Actors.ScsiCommandOutcome")]
public sealed record ScsiCommandOutcome(
    [property: Id(0)] byte Status,
    [property: Id(1)] int Transferred,
    [property: Id(2)] byte SenseKey,
    [property: Id(3)] byte Asc,
    [property: Id(4)] byte Ascq,
    [property: Id(5)] byte[]? DataIn);
