using System.CommandLine;
using System.Globalization;
using Actors.Hvctl.Output;

namespace Actors.Hvctl;

/// <summary>
/// <c>--watch</c> and <c>--interval</c> of <c>vm list</c> and <c>vm migrations</c>: print, wait, print again, until
/// Ctrl-C (which ends hvctl with <see cref="ExitCodes.Interrupted"/>, as any interrupted command).
/// </summary>
internal sealed class WatchOptions
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(2);

    // Home, then erase the screen: each snapshot is drawn from the top, as watch(1) does.
    internal const string ClearScreen = "\e[H\e[2J";

    public Option<bool> Watch { get; } = new("--watch", "-w") { Description = "print again every --interval seconds until Ctrl-C (json: one document per line)" };

    public Option<double> Interval { get; } = new("--interval")
    {
        Description = "seconds between two prints with --watch",
        HelpName = "seconds",
        DefaultValueFactory = _ => DefaultInterval.TotalSeconds,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Watch);
        command.Options.Add(Interval);
    }

    /// <summary>The time between two snapshots, or null for one snapshot; checked before anything connects.</summary>
    public TimeSpan? Every(ParseResult parsed)
    {
        double seconds = parsed.GetValue(Interval);
        bool given = parsed.GetResult(Interval) is { Implicit: false };
        if (!parsed.GetValue(Watch))
            return given ? throw new UsageException("--interval applies to --watch: add --watch, or drop --interval") : null;
        if (!(seconds >= 0.1) || seconds > 3600)
            throw new UsageException($"bad --interval '{seconds.ToString(CultureInfo.InvariantCulture)}': use a number of seconds between 0.1 and 3600");
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>
    /// Prints one snapshot, or with <paramref name="every"/> one per interval until <paramref name="cancellationToken"/> fires.
    /// <paramref name="snapshot"/> renders the current state in <paramref name="format"/>, JSON on one line when asked.
    /// On a terminal a table or YAML is redrawn in place; elsewhere tables are separated by a blank line, YAML
    /// documents by "---", and JSON is one document per line (NDJSON), which tools such as jq read as a stream.
    /// </summary>
    public static async Task<int> RunAsync(
        HvctlIo io, OutputFormat format, TimeSpan? every, Func<bool, Task<string>> snapshot, CancellationToken cancellationToken)
    {
        if (every is not { } interval)
        {
            await io.Out.WriteAsync(await snapshot(false).ConfigureAwait(false)).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        bool redraw = io.OutIsTerminal && format != OutputFormat.Json;
        for (int n = 0; ; n++)
        {
            // A grain call does not take the token; WaitAsync lets Ctrl-C end the watch without waiting for an answer.
            string text = await snapshot(format == OutputFormat.Json).WaitAsync(cancellationToken).ConfigureAwait(false);
            string separator = redraw ? ClearScreen
                : n == 0 ? string.Empty
                : format switch
                {
                    OutputFormat.Table => "\n",
                    OutputFormat.Yaml => "---\n",
                    _ => string.Empty,
                };
            await io.Out.WriteAsync(separator + text).ConfigureAwait(false);
            await io.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
    }
}
