namespace Actors.HwBackend.Storage;

/// <summary>
/// What a command came to: its status, how many bytes of the data buffer it read or filled (the
/// transport reports the rest to the guest as residual), and, with CHECK CONDITION, why.
/// </summary>
public readonly record struct ScsiResult(ScsiStatus Status, int Transferred, ScsiSense Sense)
{
    public static ScsiResult Good(int transferred) => new(ScsiStatus.Good, transferred, ScsiSense.NoSense);

    public static ScsiResult CheckCondition(ScsiSense sense) => new(ScsiStatus.CheckCondition, 0, sense);

    /// <summary>
    /// Writes the sense data that goes back with the status (fixed format, truncated to
    /// <paramref name="into"/>), or nothing for GOOD; returns its length.
    /// </summary>
    public int WriteSenseData(Span<byte> into) => Status == ScsiStatus.Good ? 0 : Sense.WriteFixedFormat(into);
}
