namespace Actors.HwBackend.Storage;

/// <summary>
/// Why a command failed: a sense key with its additional sense code and qualifier (SPC-3 4.5).
/// Sent to the guest as fixed-format sense data (response code 0x70), which is what Linux's
/// <c>scsi_normalize_sense</c> expects when the control mode page leaves D_SENSE clear.
/// </summary>
public readonly record struct ScsiSense(SenseKey Key, byte Asc, byte Ascq)
{
    /// <summary>Fixed-format sense data with no command-specific or sense-key-specific information.</summary>
    public const int FixedFormatLength = 18;

    public static ScsiSense NoSense => default;

    /// <summary>5/20/00: the disk does not implement the opcode.</summary>
    public static ScsiSense InvalidCommandOperationCode => new(SenseKey.IllegalRequest, 0x20, 0x00);

    /// <summary>5/21/00: the blocks asked for are not all on the disk.</summary>
    public static ScsiSense LbaOutOfRange => new(SenseKey.IllegalRequest, 0x21, 0x00);

    /// <summary>5/24/00: a field of the CDB (or the buffer that goes with it) is not one this disk accepts.</summary>
    public static ScsiSense InvalidFieldInCdb => new(SenseKey.IllegalRequest, 0x24, 0x00);

    /// <summary>5/39/00: MODE SENSE asked for saved values, and nothing here is saved.</summary>
    public static ScsiSense SavingParametersNotSupported => new(SenseKey.IllegalRequest, 0x39, 0x00);

    /// <summary>2/04/01: the disk cannot be reached just now (its host is away); Linux retries the command.</summary>
    public static ScsiSense BecomingReady => new(SenseKey.NotReady, 0x04, 0x01);

    /// <summary>3/11/00: the store could not read the blocks.</summary>
    public static ScsiSense UnrecoveredReadError => new(SenseKey.MediumError, 0x11, 0x00);

    /// <summary>3/0C/00: the store could not write the blocks, or could not make them stable.</summary>
    public static ScsiSense WriteError => new(SenseKey.MediumError, 0x0C, 0x00);

    /// <summary>
    /// Writes the fixed-format sense data, as much of it as fits <paramref name="into"/> (a
    /// transport's sense buffer may be shorter), and returns how many bytes were written.
    /// </summary>
    public int WriteFixedFormat(Span<byte> into)
    {
        Span<byte> sense = stackalloc byte[FixedFormatLength];
        sense[0] = 0x70; // current error, fixed format, no valid INFORMATION field
        sense[2] = (byte)Key;
        sense[7] = FixedFormatLength - 8;
        sense[12] = Asc;
        sense[13] = Ascq;
        int length = Math.Min(FixedFormatLength, into.Length);
        sense[..length].CopyTo(into);
        return length;
    }
}
