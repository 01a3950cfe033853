using Actors.HwBackend.Memory;

namespace Actors.HwBackend.VmBus.Storage;

/// <summary>
/// One SCSI request in flight between the guest's ring and its logical unit: the guest's SRB (to
/// send back with the outcome filled in), its transaction, the guest pages its data is in (checked
/// to be RAM when it arrived), and the buffer the data passes through. Reused: the storage VSP
/// keeps a pool, so a request costs no allocation once the pool is warm.
/// </summary>
internal sealed class StorageRequest
{
    public const int SrbBytes = 52;

    public byte[] Srb { get; } = new byte[SrbBytes];

    public ulong[] Pages { get; } = new ulong[(StorageVsp.MaxTransferBytes / GuestRam.PageSize) + 1];

    public byte[] Data { get; } = new byte[StorageVsp.MaxTransferBytes];

    public ulong Transaction { get; set; }

    /// <summary>The channel it came on: a completion for a channel the guest has since closed is dropped.</summary>
    public IVmBusChannel? Channel { get; set; }

    public int PageOffset { get; set; }

    public int PageCount { get; set; }

    public int Length { get; set; }

    /// <summary>0 to the device (a write), 1 from it (a read), 2 no data.</summary>
    public byte Direction { get; set; }

    public byte Lun => Srb[7];

    public int CdbLength => Srb[8];
}
