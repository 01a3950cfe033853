namespace Actors.HwBackend.Storage;

/// <summary>The status byte of a completed command (SAM); a disk that is never busy or reserved only needs these two.</summary>
public enum ScsiStatus : byte
{
    Good = 0x00,

    /// <summary>The command failed; the sense data says why.</summary>
    CheckCondition = 0x02,
}
