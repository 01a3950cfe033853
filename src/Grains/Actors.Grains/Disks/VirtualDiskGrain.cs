using System.Diagnostics;
using Actors.Grains.Images;
using Actors.Grains.Placement;
using Actors.Grains.Telemetry;
using Actors.HwBackend.Storage;
using Microsoft.Extensions.Options;

namespace Actors.Grains.Disks;

/// <summary>
/// A virtual disk on its host: the image file in the host's disk store (or, for a disk made from an
/// image, a copy-on-write overlay over this host's copy of it), opened (exclusively) while the grain
/// is active, and the <see cref="ScsiDisk"/> that carries out the SCSI commands its VM sends from
/// wherever the VM runs. One VM at a time holds it.
/// </summary>
[HostPinnedPlacement]
public sealed class VirtualDiskGrain(IOptions<DiskStoreOptions> options, ILocalSiloDetails localSilo) : Grain, IVirtualDiskGrain
{
    private FileBlockStore? _store, _base;
    private OverlayBlockStore? _overlay;
    private ScsiDisk? _disk;
    private string? _holder;
    private string? _detached; // the VM last detached from the disk, whose late requests must not take it back

    private (string Host, string Name) Key => VmWorkerKey.Parse(this.GetPrimaryKeyString());

    private string HostDirectory => Path.Combine(options.Value.Directory, Key.Host);

    private string ImagePath => Path.Combine(HostDirectory, Key.Name + ".img");

    /// <summary>Beside a copy-on-write disk's overlay: the id of the image it is over.</summary>
    private string BaseIdPath => Path.Combine(HostDirectory, Key.Name + ".base");

    /// <summary>The host's copy of a base image, shared by every disk over it (read only).</summary>
    private string BaseImagePath(string imageId) => Path.Combine(HostDirectory, ".base", imageId + ".img");

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

    public async Task CreateAsync(long sizeBytes, string? baseImage = null)
    {
        Directory.CreateDirectory(HostDirectory);
        try
        {
            if (baseImage is null)
            {
                using var created = FileBlockStore.Create(ImagePath, sizeBytes);
                return;
            }
            string basePath = await FetchBaseAsync(baseImage);
            using var shared = FileBlockStore.OpenReadOnly(basePath);
            using (OverlayBlockStore.Create(ImagePath, shared))
                await File.WriteAllTextAsync(BaseIdPath, baseImage);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new HypervisorException($"disk '{Key.Name}' cannot be made on host '{Key.Host}': {e.Message}");
        }
    }

    /// <summary>This host's copy of a base image, fetched from the image store the first time a disk here needs it.</summary>
    private async Task<string> FetchBaseAsync(string imageId)
    {
        string path = BaseImagePath(imageId);
        if (File.Exists(path))
            return path;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        byte[] image = await ImageFetcher.FetchAsync(GrainFactory.GetGrain<IImageStoreGrain>(imageId), imageId);
        string partial = path + $".{Guid.NewGuid():N}";
        await File.WriteAllBytesAsync(partial, image);
        File.Move(partial, path, overwrite: true);
        return path;
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
        // The host's copy of a base image stays: other disks may be over it.
        foreach (string path in new[] { ImagePath, OverlayBlockStore.MapPath(ImagePath), BaseIdPath })
            File.Delete(path);
        DeactivateOnIdle();
    }

    private ScsiDisk Open()
    {
        if (_disk is not null)
            return _disk;
        try
        {
            if (!File.Exists(BaseIdPath))
                return _disk = new ScsiDisk(_store = FileBlockStore.Open(ImagePath), Key.Name);
            _base = FileBlockStore.OpenReadOnly(BaseImagePath(File.ReadAllText(BaseIdPath).Trim()));
            return _disk = new ScsiDisk(_overlay = OverlayBlockStore.Open(ImagePath, _base), Key.Name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            Close();
            throw new HypervisorException($"disk '{Key.Name}' cannot be opened on host '{Key.Host}': {e.Message}");
        }
    }

    private void Close()
    {
        _store?.Dispose();
        _overlay?.Dispose();
        _base?.Dispose();
        (_store, _overlay, _base, _disk) = (null, null, null, null);
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
