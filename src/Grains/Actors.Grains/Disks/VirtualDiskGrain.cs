using System.Diagnostics;
using Actors.Grains.Placement;
using Actors.Grains.Telemetry;
using Actors.HwBackend.Storage;
using Microsoft.Extensions.Options;

namespace Actors.Grains.Disks;

/// <summary>
/// A virtual disk on its host: the image file in the host's disk store, opened (exclusively) while
/// the grain is active, and the <see cref="ScsiDisk"/> that carries out the SCSI commands its VM
/// sends from wherever the VM runs. One VM at a time holds it.
/// </summary>
[HostPinnedPlacement]
public sealed class VirtualDiskGrain(IOptions<DiskStoreOptions> options, ILocalSiloDetails localSilo) : Grain, IVirtualDiskGrain
{
    private FileBlockStore? _store;
    private ScsiDisk? _disk;
    private string? _holder;
    private string? _detached; // the VM last detached from the disk, whose late requests must not take it back

    private (string Host, string Name) Key => VmWorkerKey.Parse(this.GetPrimaryKeyString());

    private string ImagePath => Path.Combine(options.Value.Directory, Key.Host, Key.Name + ".img");

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // dotnet/orleans#9685: a stale directory entry can activate us away from our host.
        if (!string.Equals(localSilo.Name, Key.Host, StringComparison.Ordinal))
        {
            this.DeactivateOnIdle();
            throw new HypervisorException($"disk '{Key.Name}' of host '{Key.Host}' cannot be served on silo '{localSilo.Name}'");
        }
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Close();
        return Task.CompletedTask;
    }

    public Task CreateAsync(long sizeBytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(ImagePath)!);
        try
        {
            using var created = FileBlockStore.Create(ImagePath, sizeBytes);
        }
        catch (IOException e)
        {
            throw new HypervisorException($"disk '{Key.Name}' cannot be made on host '{Key.Host}': {e.Message}");
        }
        return Task.CompletedTask;
    }

    public async Task AttachAsync(string vmName)
    {
        if (_holder is { } holder && holder != vmName && await RunsAsync(holder))
            throw new HypervisorException($"disk '{Key.Name}' is in use by VM '{holder}'");
        Open();
        (_holder, _detached) = (vmName, null);
    }

    public Task DetachAsync(string vmName)
    {
        if (_holder == vmName)
            (_holder, _detached) = (null, vmName);
        return Task.CompletedTask;
    }

    public Task<ScsiCommandOutcome> ExecuteAsync(string vmName, byte[] cdb, byte[]? dataOut, int dataInLength)
    {
        ArgumentNullException.ThrowIfNull(cdb);
        // An owner that was idle long enough to be deactivated forgot its holder: the VM that
        // attached before goes on holding the disk.
        if (_detached != vmName)
            _holder ??= vmName;
        if (_holder != vmName)
            throw new HypervisorException($"disk '{Key.Name}' is not attached to VM '{vmName}'");
        ScsiDisk disk = Open();
        using Activity? span = HypervisorTracing.Source.StartActivity("DiskStore")?.SetTag("actors.disk", Key.Name).SetTag("actors.host", Key.Host);
        byte[] dataIn = dataInLength > 0 ? new byte[Math.Min(dataInLength, ScsiDisk.MaxTransferBlocks * ScsiDisk.BlockBytes)] : [];
        ScsiResult result = disk.Execute(cdb, dataIn, dataOut ?? []);
        return Task.FromResult(new ScsiCommandOutcome(
            (byte)result.Status, result.Transferred, (byte)result.Sense.Key, result.Sense.Asc, result.Sense.Ascq, dataInLength > 0 ? dataIn[..result.Transferred] : null));
    }

    public async Task DeleteAsync()
    {
        if (_holder is { } holder && await RunsAsync(holder))
            throw new HypervisorException($"disk '{Key.Name}' is in use by VM '{holder}'; stop it first");
        Close();
        File.Delete(ImagePath);
        DeactivateOnIdle();
    }

    private ScsiDisk Open()
    {
        if (_disk is not null)
            return _disk;
        try
        {
            _store = FileBlockStore.Open(ImagePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new HypervisorException($"disk '{Key.Name}' cannot be opened on host '{Key.Host}': {e.Message}");
        }
        return _disk = new ScsiDisk(_store, Key.Name);
    }

    private void Close()
    {
        _store?.Dispose();
        (_store, _disk) = (null, null);
    }

    /// <summary>Whether the VM still runs (or is starting, paused or stopping); a deleted VM, or one whose host died, holds no disk.</summary>
    private async Task<bool> RunsAsync(string vmName)
    {
        try
        {
            VmStatus status = await GrainFactory.GetGrain<IPartitionGrain>(vmName).GetStatusAsync();
            return status.State is VmState.Running or VmState.Paused or VmState.Starting or VmState.Stopping;
        }
        catch (HypervisorException)
        {
            return false;
        }
    }
}
