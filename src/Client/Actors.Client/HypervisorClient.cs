using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Actors.Grains;
using Actors.Grains.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Streams;

namespace Actors.Client;

/// <summary>
/// The typed entry point to an Actors cluster: VMs, hosts, images and consoles over the grain interfaces.
/// Refusals by the cluster surface as <see cref="HypervisorException"/>, client-side problems as
/// <see cref="HypervisorClientException"/>; both carry one-line messages fit for a user.
/// </summary>
public sealed class HypervisorClient : IAsyncDisposable
{
    /// <summary>The Orleans cluster id every Actors silo and client uses.</summary>
    public const string ClusterId = "actors";

    /// <summary>The Orleans service id every Actors silo and client uses.</summary>
    public const string ServiceId = "actors";

    /// <summary>How long <see cref="ConnectAsync(string, CancellationToken)"/> tries to reach the gateway: 15 s.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan MigrationPollInterval = TimeSpan.FromMilliseconds(100);

    // How long WaitForMigrationAsync keeps asking while the cluster reacts to a silo's death.
    private static readonly TimeSpan SiloLossTolerance = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan StatePollInterval = TimeSpan.FromMilliseconds(100);

    private readonly IHost? _ownedHost;

    /// <summary>Wraps a client someone else owns, such as the one inside an embedded silo.</summary>
    public HypervisorClient(IClusterClient cluster)
        : this(cluster, ownedHost: null)
    {
    }

    private HypervisorClient(IClusterClient cluster, IHost? ownedHost)
    {
        Cluster = cluster;
        _ownedHost = ownedHost;
    }

    /// <summary>The Orleans client underneath, for calls to grains this class has no method for.</summary>
    public IClusterClient Cluster { get; }

    /// <summary>Connects over plain TCP through one gateway, giving up after <see cref="DefaultConnectTimeout"/>.</summary>
    /// <param name="gateway">The gateway as "host:port", for example "localhost:30000".</param>
    /// <param name="cancellationToken">Stops trying to connect.</param>
    /// <returns>A connected client; dispose it to disconnect.</returns>
    /// <exception cref="HypervisorClientException">The gateway is malformed or unresolvable, or the cluster could not be reached in time; the message says which.</exception>
    public static Task<HypervisorClient> ConnectAsync(string gateway, CancellationToken cancellationToken = default) =>
        ConnectAsync(gateway, DefaultConnectTimeout, cancellationToken);

    /// <summary>
    /// Connects to the cluster through one gateway ("host:port"), giving up after <paramref name="connectTimeout"/>;
    /// with <paramref name="tls"/> over mutual TLS, as silos started with certificates demand.
    /// </summary>
    /// <param name="gateway">The gateway as "host:port"; a host name resolves through DNS, IPv4 first.</param>
    /// <param name="connectTimeout">How long to keep trying.</param>
    /// <param name="cancellationToken">Stops trying to connect.</param>
    /// <param name="tls">This client's certificate and the CA it trusts (<see cref="TlsCredentials.Load"/>), or null for plain TCP.</param>
    /// <returns>A connected client; dispose it to disconnect.</returns>
    /// <exception cref="HypervisorClientException">
    /// The gateway is malformed or unresolvable, nothing listens there, or the handshake failed (TLS on one end
    /// only, a certificate the other end does not trust, a silo still starting); the message says which.
    /// </exception>
    public static async Task<HypervisorClient> ConnectAsync(
        string gateway, TimeSpan connectTimeout, CancellationToken cancellationToken = default, TlsCredentials? tls = null)
    {
        IPEndPoint endpoint = await ResolveGatewayAsync(gateway, cancellationToken).ConfigureAwait(false);

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            // No console logging, no environment or appsettings: hvctl's stdout carries guest bytes.
            DisableDefaults = true,
        });
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(endpoint);
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = ServiceId;
            });
            client.AddMemoryStreams(ConsoleStreams.Provider);
            // A trace begun in the caller (hvctl's own span) continues into the grains.
            client.AddActivityPropagation();
            if (tls is not null)
                client.UseTls(tls.Certificate, tls.ApplyTo);
        });
        IHost host = builder.Build();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(connectTimeout);
        try
        {
            // WaitAsync as well, in case a connect attempt does not observe the token.
            await host.StartAsync(deadline.Token).WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _ = DisposeQuietlyAsync(host);
            throw new HypervisorClientException(await WhyNotConnectedAsync(endpoint, gateway, tls is not null).ConfigureAwait(false), e);
        }
        catch
        {
            _ = DisposeQuietlyAsync(host);
            throw;
        }

        return new HypervisorClient(host.Services.GetRequiredService<IClusterClient>(), host);
    }

    /// <summary>"host:port" to an endpoint; a name resolves through DNS (IPv4 preferred, as silos listen there).</summary>
    /// <param name="gateway">"host:port", "1.2.3.4:port" or "[::1]:port".</param>
    /// <param name="cancellationToken">Stops the DNS lookup.</param>
    /// <exception cref="HypervisorClientException">The text is not host:port with a port from 1 to 65535, or the name does not resolve.</exception>
    public static async Task<IPEndPoint> ResolveGatewayAsync(string gateway, CancellationToken cancellationToken = default)
    {
        int colon = gateway.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(gateway.AsSpan(colon + 1), out int port) || port is < 1 or > 65535)
            throw new HypervisorClientException($"bad gateway '{gateway}': use HOST:PORT, for example localhost:30000");

        string hostName = gateway[..colon].Trim('[', ']');
        if (IPAddress.TryParse(hostName, out IPAddress? address))
            return new IPEndPoint(address, port);

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(hostName, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new HypervisorClientException($"cannot resolve gateway host '{hostName}': check the name in --gateway", e);
        }

        IPAddress? chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
        return chosen is null
            ? throw new HypervisorClientException($"cannot resolve gateway host '{hostName}': check the name in --gateway")
            : new IPEndPoint(chosen, port);
    }

    /// <summary>
    /// Why the cluster's handshake failed, as far as this side can tell: nothing listens; or something does,
    /// and then TLS on one end only or a certificate the other end does not trust are the usual causes, or
    /// a silo that is still starting.
    /// </summary>
    private static async Task<string> WhyNotConnectedAsync(IPEndPoint endpoint, string gateway, bool withTls)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            await socket.ConnectAsync(endpoint, limit.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return Unreachable(gateway);
        }

        if (withTls)
            return $"gateway {gateway} refused this client: it does not trust this client's certificate, this client does not trust its certificate (check --tls-ca), it does not use TLS, or it is still starting";
        return await ShowsCertificateAsync(socket, limit.Token).ConfigureAwait(false)
            ? $"gateway {gateway} refused this client: it requires TLS; give --tls-cert, --tls-key and --tls-ca (or ACTORS_TLS_CERT, ACTORS_TLS_KEY, ACTORS_TLS_CA)"
            : $"gateway {gateway} took the connection but did not let this client in; is its silo still starting?";
    }

    /// <summary>Whether the other end answers a TLS hello with a certificate: then it is a gateway that speaks TLS.</summary>
    private static async Task<bool> ShowsCertificateAsync(Socket socket, CancellationToken cancellationToken)
    {
        bool shown = false;
        await using var stream = new SslStream(new NetworkStream(socket, ownsSocket: false));
        try
        {
            await stream.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = "actors-gateway",
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => shown = certificate is not null,
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            // Expected: without a certificate of its own this side cannot finish the handshake.
        }

        return shown;
    }

    /// <summary>The one-line message for a gateway where nothing answers, with how to start a silo there.</summary>
    public static string Unreachable(string gateway) =>
        $"cannot reach gateway {gateway}: is a silo running there? start one with: dotnet run --project src/Silo -- --host NAME --silo-port 11111 --gateway-port 30000";

    /// <summary>Uploads a guest image file; see <see cref="UploadImageAsync(byte[], CancellationToken)"/>.</summary>
    /// <param name="path">The image file (ELF, Multiboot, bzImage, initrd or raw disk image), at most <see cref="IImageStoreGrain.MaximumImageBytes"/>.</param>
    /// <param name="cancellationToken">Stops the upload between chunks.</param>
    /// <returns>The image's content id (lower-case hex SHA-256), by which VMs and disks name it.</returns>
    /// <exception cref="HypervisorClientException">The file is missing, unreadable or too large.</exception>
    public Task<string> UploadImageAsync(string path, CancellationToken cancellationToken = default) =>
        UploadImageAsync(path, progress: null, cancellationToken);

    /// <summary>Uploads a guest image file, reporting each chunk sent to <paramref name="progress"/> under the file's name.</summary>
    /// <param name="path">The image file, at most <see cref="IImageStoreGrain.MaximumImageBytes"/>.</param>
    /// <param name="progress">Told after each chunk, or once if the store already holds the image; may be null.</param>
    /// <param name="cancellationToken">Stops the upload between chunks.</param>
    /// <returns>The image's content id (lower-case hex SHA-256).</returns>
    /// <exception cref="HypervisorClientException">The file is missing, unreadable or too large.</exception>
    public async Task<string> UploadImageAsync(string path, IProgress<ImageUploadProgress>? progress, CancellationToken cancellationToken = default)
    {
        byte[] image = await ReadImageFileAsync(path, cancellationToken).ConfigureAwait(false);
        return await UploadImageAsync(image, Path.GetFileName(path), progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores an image under its content id (lower-case hex SHA-256) in chunks of
    /// <see cref="IImageStoreGrain.ChunkSize"/>; an image the store already holds completely is not sent again.
    /// </summary>
    /// <param name="image">The image's bytes, at most <see cref="IImageStoreGrain.MaximumImageBytes"/>.</param>
    /// <param name="cancellationToken">Stops the upload between chunks.</param>
    /// <returns>The image's content id (lower-case hex SHA-256).</returns>
    /// <exception cref="HypervisorClientException">The image is too large.</exception>
    public Task<string> UploadImageAsync(byte[] image, CancellationToken cancellationToken = default) =>
        UploadImageAsync(image, progress: null, cancellationToken);

    /// <summary>
    /// As <see cref="UploadImageAsync(byte[], CancellationToken)"/>, reporting each chunk sent to
    /// <paramref name="progress"/> (under the image's content id).
    /// </summary>
    /// <param name="image">The image's bytes.</param>
    /// <param name="progress">Told after each chunk, or once if the store already holds the image; may be null.</param>
    /// <param name="cancellationToken">Stops the upload between chunks.</param>
    /// <returns>The image's content id (lower-case hex SHA-256).</returns>
    public Task<string> UploadImageAsync(byte[] image, IProgress<ImageUploadProgress>? progress, CancellationToken cancellationToken = default) =>
        UploadImageAsync(image, name: null, progress, cancellationToken);

    private async Task<string> UploadImageAsync(byte[] image, string? name, IProgress<ImageUploadProgress>? progress, CancellationToken cancellationToken)
    {
        if (image.LongLength > IImageStoreGrain.MaximumImageBytes)
            throw new HypervisorClientException(
                $"image is {image.LongLength} bytes, more than the store's limit of {SizeParser.Format((ulong)IImageStoreGrain.MaximumImageBytes)}: use a smaller image");

        string imageId = ImageId(image);
        string shownAs = name ?? imageId;
        IImageStoreGrain store = Cluster.GetGrain<IImageStoreGrain>(imageId);
        ImageInfo info = await store.GetInfoAsync().ConfigureAwait(false);
        if (info.Complete && info.Length == image.LongLength)
        {
            progress?.Report(new ImageUploadProgress(shownAs, 0, image.LongLength, AlreadyStored: true));
            return imageId;
        }

        await store.BeginAsync(image.LongLength).ConfigureAwait(false);
        progress?.Report(new ImageUploadProgress(shownAs, 0, image.LongLength));
        for (long offset = 0; offset < image.LongLength; offset += IImageStoreGrain.ChunkSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int length = (int)Math.Min(IImageStoreGrain.ChunkSize, image.LongLength - offset);
            await store.WriteChunkAsync(offset, image.AsSpan((int)offset, length).ToArray()).ConfigureAwait(false);
            progress?.Report(new ImageUploadProgress(shownAs, offset + length, image.LongLength));
        }

        await store.CompleteAsync().ConfigureAwait(false);
        return imageId;
    }

    /// <summary>The content id the image store keeps <paramref name="image"/> under: its SHA-256 in lower-case hex.</summary>
    public static string ImageId(ReadOnlySpan<byte> image) => Convert.ToHexStringLower(SHA256.HashData(image));

    /// <summary>
    /// Uploads the image (and initrd), reporting to <paramref name="uploadProgress"/> as chunks go, and
    /// defines the VM (state Defined); it does not start it.
    /// </summary>
    /// <param name="name">The VM's name, unique in the cluster.</param>
    /// <param name="imagePath">The guest image or Linux kernel to boot.</param>
    /// <param name="memoryBytes">Guest RAM in bytes: 1 MiB to 64 GiB, a multiple of 4 KiB (<see cref="SizeParser"/> reads "64M").</param>
    /// <param name="processorCount">Virtual processors, 1 to 64.</param>
    /// <param name="preferredHost">The host to start on, or null for the host with the most free memory when it starts.</param>
    /// <param name="cancellationToken">Stops the upload between chunks.</param>
    /// <param name="firmwareFiles">fw_cfg files the guest can read, by name, or null.</param>
    /// <param name="initrdPath">A Linux initrd to upload with the kernel, or null.</param>
    /// <param name="commandLine">A Linux kernel command line, or null.</param>
    /// <param name="enlightened">Whether the guest sees Hyper-V (enlightenments, VMBus, integration services); disks and NICs need it.</param>
    /// <param name="vspHost">The host whose silo serves the VM's heartbeat, or null for the VM's own host.</param>
    /// <param name="disks">Disks to attach at LUN 0, 1, ..., or null.</param>
    /// <param name="nics">Network adapters, or null.</param>
    /// <param name="uploadProgress">Told as the image and initrd upload; may be null.</param>
    /// <param name="replace">Whether to replace the definition of a VM of that name that is not running, instead of refusing.</param>
    /// <param name="backend">The hardware backend its host must run (<see cref="BackendPlacement.Require"/>) or should run (<see cref="BackendPlacement.Prefer"/>), or null for any.</param>
    /// <param name="cpuTier">How the software CPU runs it: <c>interpreter</c> or <c>translator</c>, or null for its host's choice; KVM hosts ignore it.</param>
    /// <returns>The VM's status: Defined.</returns>
    /// <exception cref="HypervisorClientException">A file is missing or unreadable, or the configuration is invalid (checked before anything is uploaded).</exception>
    /// <exception cref="HypervisorException">The cluster refused: the name is taken (<see cref="HypervisorRefusal.AlreadyExists"/>), the VM cannot be replaced now, or no host runs the backend it requires.</exception>
    public async Task<VmStatus> CreateVmAsync(
        string name,
        string imagePath,
        ulong memoryBytes,
        int processorCount,
        string? preferredHost = null,
        CancellationToken cancellationToken = default,
        IReadOnlyDictionary<string, string>? firmwareFiles = null,
        string? initrdPath = null,
        string? commandLine = null,
        bool enlightened = false,
        string? vspHost = null,
        IReadOnlyList<string>? disks = null,
        IReadOnlyList<NetworkAdapterConfiguration>? nics = null,
        IProgress<ImageUploadProgress>? uploadProgress = null,
        bool replace = false,
        BackendPlacement? backend = null,
        string? cpuTier = null)
    {
        CheckVmName(name);
        using Activity? span = ClientTracing.Start("CreateVm", name);
        byte[] image = await ReadImageFileAsync(imagePath, cancellationToken).ConfigureAwait(false);
        byte[]? initrd = initrdPath is null ? null : await ReadImageFileAsync(initrdPath, cancellationToken).ConfigureAwait(false);
        // Validate before uploading so a bad size does not cost an upload.
        var configuration = new VmConfiguration(
            ImageId(image), memoryBytes, processorCount, preferredHost, Path.GetFileName(imagePath),
            firmwareFiles is null ? null : new Dictionary<string, string>(firmwareFiles, StringComparer.Ordinal),
            initrd is null ? null : ImageId(initrd),
            commandLine,
            enlightened,
            vspHost,
            disks is { Count: > 0 } ? [.. disks] : null,
            nics is { Count: > 0 } ? [.. nics] : null,
            backend,
            cpuTier);
        if (configuration.Validate() is { } problem)
            throw new HypervisorClientException(problem);
        // Asked before the upload, which a VM no host can run would waste; the partition asks again when it is defined.
        if (backend is { Required: true })
        {
            IReadOnlyList<HostInfo> hosts = await ListHostsAsync().ConfigureAwait(false);
            if (backend.RefusalAmong(name, [.. hosts.Where(h => h.Answered)]) is { } none)
                throw new HypervisorException(none);
        }

        await UploadImageAsync(image, Path.GetFileName(imagePath), uploadProgress, cancellationToken).ConfigureAwait(false);
        if (initrd is not null)
            await UploadImageAsync(initrd, Path.GetFileName(initrdPath), uploadProgress, cancellationToken).ConfigureAwait(false);
        IPartitionGrain partition = Partition(name);
        return await (replace ? partition.ReplaceAsync(configuration) : partition.CreateAsync(configuration)).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts a Defined, Off or Failed VM: places it on its preferred host (or the one with the most free memory, among
    /// the hosts of its required backend, those of its preferred backend first), which fetches its image and boots it. Returns once its vCPUs run; subscribe to its console first to see its first byte.
    /// </summary>
    /// <returns>The VM's status: Running, on its host.</returns>
    /// <exception cref="HypervisorException">No VM of that name, its state does not allow it, or no host can run it; the message says which.</exception>
    public async Task<VmStatus> StartVmAsync(string name)
    {
        using Activity? span = ClientTracing.Start("StartVm", name);
        return await Partition(name).StartAsync().ConfigureAwait(false);
    }

    /// <summary>Stops a Starting, Running or Paused VM at once (the guest is not asked; see <see cref="ShutdownVmAsync"/>) and frees its memory.</summary>
    /// <returns>The VM's status: Off.</returns>
    /// <exception cref="HypervisorException">No VM of that name, or its state does not allow it; the message says which.</exception>
    public async Task<VmStatus> StopVmAsync(string name)
    {
        using Activity? span = ClientTracing.Start("StopVm", name);
        return await Partition(name).StopAsync().ConfigureAwait(false);
    }

    /// <summary>Pauses a Running VM's vCPUs; its memory stays on its host.</summary>
    /// <returns>The VM's status: Paused.</returns>
    /// <exception cref="HypervisorException">No VM of that name, or its state does not allow it; the message says which.</exception>
    public async Task<VmStatus> PauseVmAsync(string name)
    {
        using Activity? span = ClientTracing.Start("PauseVm", name);
        return await Partition(name).PauseAsync().ConfigureAwait(false);
    }

    /// <summary>Lets a Paused VM run on.</summary>
    /// <returns>The VM's status: Running.</returns>
    /// <exception cref="HypervisorException">No VM of that name, or its state does not allow it; the message says which.</exception>
    public async Task<VmStatus> ResumeVmAsync(string name)
    {
        using Activity? span = ClientTracing.Start("ResumeVm", name);
        return await Partition(name).ResumeAsync().ConfigureAwait(false);
    }

    /// <summary>Asks the guest to power off or restart through its shutdown integration service; returns once it accepted (see <see cref="IPartitionGrain.ShutdownAsync"/>).</summary>
    /// <param name="name">The VM, running and created with <c>enlightened</c>.</param>
    /// <param name="kind">Power off, or restart.</param>
    /// <returns>The VM's status when the guest accepted; it is Off (or running again) once the guest has finished.</returns>
    /// <exception cref="HypervisorException">No such VM, it does not run, it has no integration services, or the guest refused or did not answer.</exception>
    public async Task<VmStatus> ShutdownVmAsync(string name, GuestShutdownKind kind)
    {
        // Partition, shutdown VSP, the VM's channel and the guest's answer hang below it.
        using Activity? span = ClientTracing.Start(kind == GuestShutdownKind.Restart ? "RebootVm" : "ShutdownVm", name);
        return await Partition(name).ShutdownAsync(kind).ConfigureAwait(false);
    }

    /// <summary>Gives the running guest a key/value pair through its KVP integration service.</summary>
    /// <param name="name">The VM, running and created with <c>enlightened</c>.</param>
    /// <param name="key">The key, as the guest's KVP daemon stores it.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="HypervisorException">No such VM, no integration services, a key or value too long, or too many pairs waiting for the guest.</exception>
    public Task SetGuestValueAsync(string name, string key, string value) => Partition(name).SetGuestValueAsync(key, value);

    /// <summary>The running VM's VMBus: its version and channels, through the partition's VMBus grain.</summary>
    /// <param name="name">The VM, running and created with <c>enlightened</c>.</param>
    /// <exception cref="HypervisorException">The VM does not run or does not see Hyper-V.</exception>
    public Task<VmBusStatus> GetVmBusAsync(string name)
    {
        CheckVmName(name);
        return Cluster.GetGrain<IVmBusGrain>(name).GetStatusAsync();
    }

    /// <summary>Deletes a VM that does not run (Defined, Off or Failed); its name is free again. Images and disks stay.</summary>
    /// <exception cref="HypervisorException">No VM of that name, or its state does not allow it; the message says which.</exception>
    public async Task DeleteVmAsync(string name)
    {
        using Activity? span = ClientTracing.Start("DeleteVm", name);
        await Partition(name).DeleteAsync().ConfigureAwait(false);
    }

    /// <summary>Makes an empty disk of <paramref name="sizeBytes"/> in <paramref name="host"/>'s disk store (or the first host's).</summary>
    /// <param name="name">The disk's name: 1-64 letters, digits, '-', '_' and '.'.</param>
    /// <param name="sizeBytes">Its size in bytes, 1 MiB to 2 TiB.</param>
    /// <param name="host">The host to keep it on, or null for the first host by name.</param>
    /// <exception cref="HypervisorException">The name is taken (<see cref="HypervisorRefusal.AlreadyExists"/>) or invalid, the size is out of range, or the host is unknown.</exception>
    public Task<DiskInfo> CreateDiskAsync(string name, long sizeBytes, string? host = null) => Disks.CreateAsync(name, sizeBytes, host);

    /// <summary>
    /// Makes a copy-on-write disk over the raw disk image in <paramref name="imagePath"/>, uploaded to
    /// the image store (once, by content) and left as it is there: the disk starts as the image and
    /// keeps its own writes.
    /// </summary>
    /// <param name="name">The disk's name.</param>
    /// <param name="imagePath">A raw disk image file.</param>
    /// <param name="host">The host to keep it on, or null for the first host by name.</param>
    /// <param name="cancellationToken">Stops the upload between chunks.</param>
    /// <param name="uploadProgress">Told as the image uploads; may be null.</param>
    /// <exception cref="HypervisorClientException">The image file is missing, unreadable or too large.</exception>
    /// <exception cref="HypervisorException">The name is taken or invalid, or the host is unknown.</exception>
    public async Task<DiskInfo> CreateDiskFromImageAsync(
        string name, string imagePath, string? host = null, CancellationToken cancellationToken = default, IProgress<ImageUploadProgress>? uploadProgress = null)
    {
        string image = await UploadImageAsync(imagePath, uploadProgress, cancellationToken).ConfigureAwait(false);
        return await Disks.CreateAsync(name, 0, host, image).ConfigureAwait(false);
    }

    /// <summary>Every disk, in order of name.</summary>
    public Task<IReadOnlyList<DiskInfo>> ListDisksAsync() => Disks.ListAsync();

    /// <summary>Deletes a disk and its bytes.</summary>
    /// <exception cref="HypervisorException">No such disk, or a running VM holds it.</exception>
    public Task DeleteDiskAsync(string name) => Disks.DeleteAsync(name);

    /// <summary>Adds disk <paramref name="disk"/> to VM <paramref name="vm"/>'s SCSI controller, running or not; returns its LUN.</summary>
    /// <exception cref="HypervisorException">No such VM or disk, the VM is starting, stopping or migrating, or another running VM holds the disk.</exception>
    public Task<int> AttachDiskAsync(string vm, string disk)
    {
        CheckVmName(vm);
        return Partition(vm).AttachDiskAsync(disk);
    }

    /// <summary>Takes disk <paramref name="disk"/> off VM <paramref name="vm"/>'s SCSI controller, running or not.</summary>
    /// <exception cref="HypervisorException">No such VM, or the disk is not attached to it.</exception>
    public Task DetachDiskAsync(string vm, string disk)
    {
        CheckVmName(vm);
        return Partition(vm).DetachDiskAsync(disk);
    }

    private IDiskCatalogGrain Disks => Cluster.GetGrain<IDiskCatalogGrain>(0);

    /// <summary>Defines a virtual switch, which VMs' network adapters then plug into by its name.</summary>
    /// <param name="name">The switch's name: 1-64 letters, digits, '-', '_' and '.'.</param>
    /// <exception cref="HypervisorException">The name is taken (<see cref="HypervisorRefusal.AlreadyExists"/>) or invalid.</exception>
    public Task<SwitchInfo> CreateSwitchAsync(string name) => Switches.CreateAsync(name);

    /// <summary>Every virtual switch, in order of name.</summary>
    public Task<IReadOnlyList<SwitchInfo>> ListSwitchesAsync() => Switches.ListAsync();

    /// <summary>The switch of that name, or null if there is none.</summary>
    public Task<SwitchInfo?> GetSwitchAsync(string name) => Switches.GetAsync(name);

    /// <summary>A switch's ports and what each has carried, as the switch has them now; its ports are soft state (see docs/network.md).</summary>
    /// <exception cref="HypervisorException">No such switch.</exception>
    public Task<SwitchStatus> GetSwitchStatusAsync(string name) => Cluster.GetGrain<IVirtualSwitchGrain>(name).GetStatusAsync();

    /// <summary>Deletes a switch; refused while a port is plugged into it.</summary>
    /// <exception cref="HypervisorException">No such switch, or a port is plugged into it.</exception>
    public Task DeleteSwitchAsync(string name) => Switches.DeleteAsync(name);

    private ISwitchCatalogGrain Switches => Cluster.GetGrain<ISwitchCatalogGrain>(0);

    /// <summary>A VM's status now: state, host, configuration, exit status, counters.</summary>
    /// <exception cref="HypervisorException">No VM of that name.</exception>
    public Task<VmStatus> GetVmAsync(string name) => Partition(name).GetStatusAsync();

    /// <summary>Every VM; an enlightened one that runs is asked for its state now, so that its heartbeat is current.</summary>
    public async Task<IReadOnlyList<VmStatus>> ListVmsAsync()
    {
        IReadOnlyList<VmStatus> vms = await Cluster.GetGrain<IVmCatalogGrain>(0).ListAsync().ConfigureAwait(false);
        VmStatus[] current = await Task.WhenAll(vms.Select(CurrentAsync)).ConfigureAwait(false);
        return [.. current.OrderBy(v => v.Name, StringComparer.Ordinal)];

        async Task<VmStatus> CurrentAsync(VmStatus listed)
        {
            if (!listed.Configuration.Enlightened || listed.State is not (VmState.Running or VmState.Paused))
                return listed;
            try
            {
                return await GetVmAsync(listed.Name).ConfigureAwait(false);
            }
            catch (HypervisorException)
            {
                return listed; // deleted or ended meanwhile: the catalog's entry is the best there is
            }
        }
    }

    /// <summary>Every registered host with its inventory; a host that does not answer is listed with <see cref="HostInfo.UnreachableBackend"/>.</summary>
    public async Task<IReadOnlyList<HostInfo>> ListHostsAsync()
    {
        IReadOnlyList<string> hosts = await Cluster.GetGrain<IHostCatalogGrain>(0).ListAsync().ConfigureAwait(false);
        HostInfo[] infos = await Task.WhenAll(hosts.Select(async host =>
        {
            try
            {
                return await Cluster.GetGrain<IRootPartitionGrain>(host).GetInfoAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is not HypervisorException)
            {
                return HostInfo.Unreachable(host);
            }
        })).ConfigureAwait(false);
        return [.. infos.OrderBy(h => h.Host, StringComparer.Ordinal)];
    }

    /// <summary>Types <paramref name="data"/> into the VM's serial console (its UART's receive queue), as a terminal would.</summary>
    /// <exception cref="HypervisorException">No such VM, or it does not run.</exception>
    public Task SendConsoleInputAsync(string name, byte[] data) => Partition(name).SendConsoleInputAsync(data);

    /// <summary>Starts a live migration of a running VM to <paramref name="targetHost"/>; returns the migration id.</summary>
    /// <param name="name">The VM, Running.</param>
    /// <param name="targetHost">The host to move it to; not the one it runs on.</param>
    /// <param name="options">The downtime budget, bandwidth limit and most passes (<see cref="MigrationOptions.Default"/>: 20 ms, no limit, 30).</param>
    /// <returns>The migration's id, for <see cref="GetMigrationAsync"/> and <see cref="WaitForMigrationAsync"/>. The VM keeps running meanwhile.</returns>
    /// <exception cref="HypervisorException">No such VM, it does not run, it is migrating already, the target is unknown, is its host or runs another backend than the VM requires, or the options are invalid.</exception>
    public async Task<string> MigrateVmAsync(string name, string targetHost, MigrationOptions options)
    {
        // The coordinator's passes and switch-over, on the source and target hosts, hang below it.
        using Activity? span = ClientTracing.Start("MigrateVm", name)?.SetTag("actors.target_host", targetHost);
        return await Partition(name).MigrateAsync(targetHost, options).ConfigureAwait(false);
    }

    /// <summary>A migration's progress now.</summary>
    /// <exception cref="HypervisorException">No migration of that id.</exception>
    public Task<MigrationStatus> GetMigrationAsync(string id) => Cluster.GetGrain<IMigrationGrain>(id).GetStatusAsync();

    /// <summary>Every migration the cluster ran or runs, oldest first.</summary>
    public Task<IReadOnlyList<MigrationStatus>> ListMigrationsAsync() => Cluster.GetGrain<IMigrationCatalogGrain>(0).ListAsync();

    /// <summary>
    /// Polls a migration (every 100 ms) until it ends, reporting each status to <paramref name="progress"/>; returns
    /// its final status. A silo of the migration that dies meanwhile is waited out for up to two minutes.
    /// </summary>
    /// <param name="id">The id <see cref="MigrateVmAsync"/> returned.</param>
    /// <param name="progress">Called with each status polled, the final one included; may be null.</param>
    /// <param name="cancellationToken">Stops waiting; the migration goes on.</param>
    /// <returns>The final status: Completed (with <see cref="MigrationStatus.Downtime"/> and <see cref="MigrationStatus.Elapsed"/>) or Failed (with <see cref="MigrationStatus.Reason"/>).</returns>
    /// <exception cref="HypervisorException">No migration of that id.</exception>
    public async Task<MigrationStatus> WaitForMigrationAsync(string id, Action<MigrationStatus>? progress, CancellationToken cancellationToken = default)
    {
        using Activity? span = ClientTracing.Source.StartActivity("WaitForMigration", ActivityKind.Client)?.SetTag("actors.migration", id);
        MigrationStatus status = await GetMigrationAsync(id).ConfigureAwait(false);
        DateTimeOffset lastAnswer = DateTimeOffset.UtcNow;
        while (true)
        {
            progress?.Invoke(status);
            if (status.Ended)
                return status;
            await Task.Delay(MigrationPollInterval, cancellationToken).ConfigureAwait(false);
            try
            {
                status = await GetMigrationAsync(id).ConfigureAwait(false);
                lastAnswer = DateTimeOffset.UtcNow;
            }
            catch (Exception e) when (SiloLoss.IsTransient(e)
                && DateTimeOffset.UtcNow - lastAnswer < SiloLossTolerance)
            {
                // A silo of the migration died (that is what a migration must survive): until the cluster
                // declares it dead, calls to the coordinator it hosted are rejected. Then the coordinator's
                // record activates elsewhere and settles the migration.
            }
        }
    }

    /// <summary>Subscribes to a VM's console now, so output produced after this returns is not missed.</summary>
    /// <param name="name">The VM; it need not exist or run yet.</param>
    /// <param name="cancellationToken">Cancels before subscribing.</param>
    /// <returns>The subscription: read it with <see cref="ConsoleSubscription.ReadAllAsync"/>, dispose it to unsubscribe.</returns>
    public async Task<ConsoleSubscription> SubscribeConsoleAsync(string name, CancellationToken cancellationToken = default)
    {
        CheckVmName(name);
        cancellationToken.ThrowIfCancellationRequested();
        IAsyncStream<ConsoleOutput> stream = Cluster
            .GetStreamProvider(ConsoleStreams.Provider)
            .GetStream<ConsoleOutput>(StreamId.Create(ConsoleStreams.Namespace, name));
        var subscription = new ConsoleSubscription(name);
        await subscription.AttachAsync(stream).ConfigureAwait(false);
        return subscription;
    }

    /// <summary>A VM's console output from the moment of the first MoveNextAsync, until the token fires.</summary>
    /// <param name="name">The VM.</param>
    /// <param name="cancellationToken">Ends the enumeration (with <see cref="OperationCanceledException"/>) and the subscription.</param>
    public async IAsyncEnumerable<ConsoleOutput> StreamConsoleAsync(
        string name, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using ConsoleSubscription subscription = await SubscribeConsoleAsync(name, cancellationToken).ConfigureAwait(false);
        await foreach (ConsoleOutput batch in subscription.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            yield return batch;
    }

    /// <summary>Polls the VM's status (every 100 ms) until <paramref name="predicate"/> holds; throws if it does not within the timeout.</summary>
    /// <param name="name">The VM.</param>
    /// <param name="predicate">What to wait for, such as <c>s =&gt; s.State == VmState.Off</c>.</param>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The first status that satisfied <paramref name="predicate"/>.</returns>
    /// <exception cref="HypervisorClientException">The timeout passed first; the message names the state the VM is in.</exception>
    /// <exception cref="HypervisorException">No VM of that name.</exception>
    public async Task<VmStatus> WaitForStateAsync(
        string name, Func<VmStatus, bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        VmStatus status = await GetVmAsync(name).ConfigureAwait(false);
        while (!predicate(status))
        {
            try
            {
                await Task.Delay(StatePollInterval, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new HypervisorClientException(
                    $"VM '{name}' is still {status.State} after {timeout.TotalSeconds:0.#} s: check it with 'hvctl vm show {name}'");
            }

            status = await GetVmAsync(name).ConfigureAwait(false);
        }

        return status;
    }

    /// <summary>Disconnects a client <see cref="ConnectAsync(string, CancellationToken)"/> made (within 5 s, quietly if the cluster is gone); a wrapped client is left to its owner.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_ownedHost is not null)
            await DisposeQuietlyAsync(_ownedHost).ConfigureAwait(false);
    }

    private IPartitionGrain Partition(string name)
    {
        CheckVmName(name);
        return Cluster.GetGrain<IPartitionGrain>(name);
    }

    private static void CheckVmName(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new HypervisorClientException("a VM name is empty: give a name such as 'web1'");
    }

    private static async Task<byte[]> ReadImageFileAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
            throw new HypervisorClientException($"image file '{path}' not found: give the path of a guest image, for example guests/build/hello.elf");
        try
        {
            var length = new FileInfo(path).Length;
            if (length > IImageStoreGrain.MaximumImageBytes)
                throw new HypervisorClientException(
                    $"image file '{path}' is {length} bytes, more than the store's limit of {SizeParser.Format((ulong)IImageStoreGrain.MaximumImageBytes)}");
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HypervisorClientException($"cannot read image file '{path}': {e.Message}", e);
        }
    }

    private static async Task DisposeQuietlyAsync(IHost host)
    {
        try
        {
            using var stopDeadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await host.StopAsync(stopDeadline.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Stopping a client that never connected, or whose cluster is gone, fails; there is nothing left to release but the host.
        }

        host.Dispose();
    }
}
