using System.CommandLine;
using System.Globalization;
using Actors.Client;
using Actors.Grains;
using Actors.Hvctl.Output;

namespace Actors.Hvctl;

/// <summary><c>hvctl vm migrate</c> and <c>hvctl vm migrations</c>: move a running VM to another host and see past moves.</summary>
internal static class MigrateCommands
{
    public static Command Migrate(CommonOptions options, HvctlIo io)
    {
        var name = new Argument<string>("NAME") { Description = "the VM's name" };
        var to = new Option<string>("--to") { Description = "the host to move the VM to", Required = true, HelpName = "host" };
        var downtime = new Option<string>("--max-downtime") { Description = "longest pause the guest may see, e.g. 20ms or 0.5s", DefaultValueFactory = _ => "20ms", HelpName = "time" };
        var bandwidth = new Option<string?>("--max-bandwidth") { Description = "cap on the copy rate, e.g. 100M/s (default: no cap)", HelpName = "size/s" };
        var command = new Command("migrate", "move a running VM to another host while it runs (pre-copy live migration)") { name, to, downtime, bandwidth };
        command.SetAction(async (parsed, ct) =>
        {
            var migration = new MigrationOptions(ParseDuration(parsed.GetRequiredValue(downtime)), ParseBandwidth(parsed.GetValue(bandwidth)));
            if (migration.Validate() is { } problem)
                throw new UsageException(problem);
            string vmName = parsed.GetRequiredValue(name);
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            string id = await client.MigrateVmAsync(vmName, parsed.GetRequiredValue(to), migration).ConfigureAwait(false);
            await io.Out.WriteLineAsync($"{vmName}: migrating ({id})").ConfigureAwait(false);
            var bar = new ProgressLine(io.Out, io.OutIsTerminal, io.TerminalColumns);
            int pass = -1;
            MigrationStatus final = await client.WaitForMigrationAsync(
                id,
                s =>
                {
                    // Each pass is a line of its own in a log: how the passes shrink is what a reader looks for.
                    bar.Report(io.OutIsTerminal ? BarText(s) : Progress(s), Copied(s), milestone: s.Pass != pass);
                    pass = s.Pass;
                },
                ct).ConfigureAwait(false);
            bar.End();
            // A failed migration is an error like any other: one line on stderr and exit status 1.
            if (final.State != MigrationState.Completed)
                throw new HypervisorException(Summary(final));
            await io.Out.WriteLineAsync(Summary(final)).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command List(CommonOptions options, HvctlIo io)
    {
        Option<OutputFormat> output = OutputOption.Create();
        var watch = new WatchOptions();
        var command = new Command("migrations", "list past and running live migrations") { output };
        watch.AddTo(command);
        command.SetAction(async (parsed, ct) =>
        {
            OutputFormat format = parsed.GetValue(output);
            TimeSpan? every = watch.Every(parsed);
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            return await WatchOptions.RunAsync(io, format, every, async oneLine =>
            {
                IReadOnlyList<MigrationStatus> migrations = await client.ListMigrationsAsync().ConfigureAwait(false);
                return OutputRenderer.Render(
                    format,
                    () => ClusterTables.FormatMigrations(migrations),
                    () => (IReadOnlyList<MigrationView>)[.. migrations.Select(MigrationView.From)],
                    OutputJsonContext.Default.IReadOnlyListMigrationView,
                    oneLine);
            }, ct).ConfigureAwait(false);
        });
        return command;
    }

    internal static string Progress(MigrationStatus s) => string.Create(CultureInfo.InvariantCulture,
        $"{s.State.ToString().ToLowerInvariant()}: pass {s.Pass}, {s.PagesRemaining} pages remaining, dirtying {s.DirtyPagesPerSecond:0} pages/s, sending {s.BytesPerSecond / (1 << 20):0.0} MiB/s, {s.BytesSent >> 20} MiB sent{(s.ThrottlePercent > 0 ? $", guest throttled {s.ThrottlePercent}%" : "")}");

    /// <summary>The figures beside a terminal's progress bar, shortest first so that a narrow terminal cuts the least telling.</summary>
    internal static string BarText(MigrationStatus s) => string.Create(CultureInfo.InvariantCulture,
        $"pass {s.Pass}, {s.PagesRemaining} pages left, {s.BytesPerSecond / (1 << 20):0.0} MiB/s, {s.BytesSent >> 20} MiB sent, dirtying {s.DirtyPagesPerSecond:0} pages/s{(s.ThrottlePercent > 0 ? $", throttled {s.ThrottlePercent}%" : "")}");

    /// <summary>The share of the guest's RAM that is on the target and clean: what the bar shows.</summary>
    internal static double Copied(MigrationStatus s)
    {
        long pages = s.MemoryBytes / 4096;
        return s.State == MigrationState.Completed ? 1 : pages == 0 ? 0 : 1 - Math.Min(s.PagesRemaining, pages) / (double)pages;
    }

    internal static string Summary(MigrationStatus s) => s.State == MigrationState.Completed
        ? string.Create(CultureInfo.InvariantCulture,
            $"{s.Vm}: now on {s.Target}: total {ClusterTables.Milliseconds(s.Elapsed)}, downtime {(s.Downtime is { } d ? ClusterTables.Milliseconds(d) : "-")}, {s.BytesSent / (double)(1 << 20):0.0} MiB sent ({s.BytesSent / (double)Math.Max(1, s.MemoryBytes):0.00}x RAM) in {s.Pass} passes")
        : $"{s.Vm}: migration to {s.Target} failed: {HvctlApp.OneLine(s.Reason ?? "no reason given")}";

    /// <summary>"20ms", "0.5s", "1500us", or a bare number of milliseconds.</summary>
    internal static TimeSpan ParseDuration(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        (string digits, double scale) = t.EndsWith("ms", StringComparison.Ordinal) ? (t[..^2], 1.0)
            : t.EndsWith("us", StringComparison.Ordinal) ? (t[..^2], 0.001)
            : t.EndsWith('s') ? (t[..^1], 1000.0)
            : (t, 1.0);
        if (!double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value > 0) || value * scale > 3_600_000)
            throw new UsageException($"bad --max-downtime '{text}': use a time such as 20ms or 0.5s");
        return TimeSpan.FromMilliseconds(value * scale);
    }

    /// <summary>"100M/s" or "100M" as bytes per second; null or empty for no cap.</summary>
    internal static long ParseBandwidth(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return 0;
        string size = text.Trim();
        if (size.EndsWith("/s", StringComparison.OrdinalIgnoreCase))
            size = size[..^2];
        if (!SizeParser.TryParse(size, out ulong bytes, out _) || bytes == 0 || bytes > long.MaxValue)
            throw new UsageException($"bad --max-bandwidth '{text}': use a rate such as 100M/s");
        return (long)bytes;
    }
}
