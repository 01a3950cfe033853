namespace Actors.HwBackend.Storage;

/// <summary>
/// A logical unit as a SCSI transport reaches it: a command and the guest's data in, its outcome
/// out, possibly later and from another host (a disk served by its owner's grain). A local
/// <see cref="ScsiDisk"/> completes at once.
/// </summary>
public interface IScsiLun
{
    /// <summary>
    /// Carries out <paramref name="cdb"/>. A command that sends data to the guest fills the first
    /// <see cref="ScsiResult.Transferred"/> bytes of <paramref name="dataIn"/> before it completes; one
    /// that takes data reads <paramref name="dataOut"/>. The buffers stay the caller's until then.
    /// </summary>
    ValueTask<ScsiResult> ExecuteAsync(ReadOnlyMemory<byte> cdb, Memory<byte> dataIn, ReadOnlyMemory<byte> dataOut);
}
