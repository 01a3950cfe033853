// The Actors client SDK from end to end: connect to a cluster, upload a guest image, create a VM, start it,
// watch its state and console, live-migrate it to another host while the console keeps streaming, print
// what the move cost, then stop and delete the VM. Start a two-silo cluster first (see the README's
// "Running a cluster") and run from the repository root:
//
//   dotnet run --project samples/Actors.Samples.Quickstart -- --gateway localhost:30000
using System.Globalization;
using System.Text;
using Actors.Client;
using Actors.Grains;
using Actors.Grains.Security;
using Actors.Samples.Quickstart;

QuickstartArguments? options = QuickstartArguments.Parse(args, out string? usageError);
if (options is null)
{
    Console.Error.WriteLine($"quickstart: {usageError}");
    return 2;
}

// Ctrl-C ends the watch early; the VM is still stopped and deleted.
using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupted.Cancel();
};

try
{
    return await RunAsync(options, interrupted.Token);
}
catch (TlsCredentialsException e)
{
    Console.Error.WriteLine($"quickstart: {e.Message}");
    return 2;
}
catch (Exception e) when (e is HypervisorClientException or HypervisorException)
{
    // Both carry one line naming the problem: an unreachable gateway, a refused operation, a missing file.
    Console.Error.WriteLine($"quickstart: {e.Message}");
    return 1;
}
catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
{
    Console.Error.WriteLine("quickstart: interrupted");
    return 130;
}

static async Task<int> RunAsync(QuickstartArguments options, CancellationToken cancellationToken)
{
    // TLS only when the certificate, its key and the CA are all given (or all in ACTORS_TLS_*).
    using TlsCredentials? tls = TlsCredentials.From(
        options.TlsCertificate, options.TlsKey, options.TlsAuthority, "--tls-cert, --tls-key and --tls-ca");
    await using HypervisorClient client = await HypervisorClient.ConnectAsync(
        options.Gateway, HypervisorClient.DefaultConnectTimeout, cancellationToken, tls);

    (string from, string to) = await ChooseHostsAsync(client, options);
    Say($"connected to {options.Gateway}; the VM starts on {from} and moves to {to}");

    string imageId = await client.UploadImageAsync(options.Image, cancellationToken);
    Say($"uploaded {Path.GetFileName(options.Image)} as image {imageId[..12]}");

    // Subscribe before the VM starts, so that its first console line is not missed.
    await using ConsoleSubscription console = await client.SubscribeConsoleAsync(options.VmName, cancellationToken);
    Task consoleLines = PrintLinesAsync(console);

    // migrate-verify reads these fw_cfg files: run until stopped, checking every page of RAM on each
    // pass, and print a line every 5 passes. Guests that do not look for them never see them.
    var firmwareFiles = new Dictionary<string, string> { ["opt/actors/passes"] = "0", ["opt/actors/report-every"] = "5" };
    VmStatus vm = await client.CreateVmAsync(
        options.VmName, options.Image, memoryBytes: 32UL << 20, processorCount: 1, preferredHost: from,
        cancellationToken, firmwareFiles);
    Say($"created VM {vm.Name}: {vm.State}, {vm.Configuration.MemoryBytes >> 20} MiB, {vm.Configuration.ProcessorCount} vCPU");
    try
    {
        vm = await client.StartVmAsync(vm.Name);
        Say($"started {vm.Name}: {vm.State} on {vm.Host}");
        await WatchAsync(client, vm.Name, options.Watch, cancellationToken);

        string migrationId = await client.MigrateVmAsync(vm.Name, to, MigrationOptions.Default);
        Say($"live-migrating {vm.Name} to {to} (migration {migrationId})");
        int passShown = 0;
        MigrationStatus migration = await client.WaitForMigrationAsync(
            migrationId,
            status =>
            {
                if (status.State == MigrationState.Copying && status.Pass > passShown)
                {
                    passShown = status.Pass;
                    Say($"  pass {status.Pass}: {status.PagesRemaining} pages dirtied meanwhile, {status.BytesPerSecond / (1 << 20):0.0} MiB/s");
                }
            },
            cancellationToken);
        if (migration.State != MigrationState.Completed)
        {
            Console.Error.WriteLine($"quickstart: migration {migration.Id} failed: {migration.Reason}");
            return 1;
        }

        Say(string.Create(
            CultureInfo.InvariantCulture,
            $"migrated {migration.Vm} from {migration.Source} to {migration.Target}: downtime {migration.Downtime?.TotalMilliseconds:0.0} ms, "
            + $"total {migration.Elapsed.TotalMilliseconds:0.0} ms, {migration.BytesSent / (double)(1 << 20):0.0} MiB sent in {migration.Pass} passes"));
        await WatchAsync(client, vm.Name, options.Watch, cancellationToken);
        return 0;
    }
    finally
    {
        // Not with the caller's token: an interrupted run cleans up all the same.
        VmStatus last = await client.GetVmAsync(vm.Name);
        if (VmLifecycle.CanStop(last.State))
            last = await client.StopVmAsync(vm.Name);
        await client.DeleteVmAsync(vm.Name);
        Say($"stopped {vm.Name} on {last.Host} ({last.InstructionsRetired:N0} instructions, {last.ConsoleBytes} console bytes) and deleted it");
        await console.DisposeAsync();
        await consoleLines;
    }
}

// The two hosts asked for, or the first two of the cluster that answer.
static async Task<(string From, string To)> ChooseHostsAsync(HypervisorClient client, QuickstartArguments options)
{
    List<string> hosts = [.. (await client.ListHostsAsync()).Where(h => h.Backend != "unreachable").Select(h => h.Host)];
    string? from = options.From ?? hosts.FirstOrDefault(h => h != options.To);
    string? to = options.To ?? hosts.FirstOrDefault(h => h != from);
    string known = hosts.Count == 0 ? "none" : string.Join(", ", hosts);
    if (from is null || to is null)
        throw new HypervisorClientException($"live migration needs two hosts; the cluster at {options.Gateway} has {hosts.Count} ({known})");
    if (from == to)
        throw new HypervisorClientException($"--from and --to are both {from}: give two different hosts");
    if (!hosts.Contains(from) || !hosts.Contains(to))
        throw new HypervisorClientException($"no host '{(hosts.Contains(from) ? to : from)}' answers in the cluster at {options.Gateway} (hosts: {known})");
    return (from, to);
}

// The VM's state now, and again after a while; its console lines appear meanwhile.
static async Task WatchAsync(HypervisorClient client, string name, TimeSpan period, CancellationToken cancellationToken)
{
    await Task.Delay(period, cancellationToken);
    VmStatus vm = await client.GetVmAsync(name);
    Say($"{vm.Name} is {vm.State} on {vm.Host}: {vm.InstructionsRetired:N0} instructions, {vm.ConsoleBytes} console bytes so far");
}

// Console output arrives in batches that need not end at a line's end (nor a character's): print whole lines.
static async Task PrintLinesAsync(ConsoleSubscription console)
{
    Decoder utf8 = Encoding.UTF8.GetDecoder();
    var line = new StringBuilder();
    await foreach (ConsoleOutput batch in console.ReadAllAsync())
    {
        char[] text = new char[utf8.GetCharCount(batch.Data, flush: false)];
        utf8.GetChars(batch.Data, text, flush: false);
        foreach (char c in text)
        {
            if (c == '\n')
            {
                Console.WriteLine($"console: {line}");
                line.Clear();
            }
            else if (c != '\r')
            {
                line.Append(c);
            }
        }
    }
}

static void Say(string text) => Console.WriteLine($"quickstart: {text}");
