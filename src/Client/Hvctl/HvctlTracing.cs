using System.Diagnostics;

namespace Actors.Hvctl;

/// <summary>
/// hvctl's span: the root of a command's trace, named by the command ("hvctl vm migrate"), so that the client's
/// spans and every grain call the command causes, on any silo, share one trace id.
/// </summary>
internal static class HvctlTracing
{
    public const string SourceName = "Actors.Hvctl";

    private static readonly ActivitySource Source = new(SourceName);

    public static Activity? StartCommand(string commandPath) => Source.StartActivity(commandPath);

    /// <summary>Records the command's exit code and, for a command that failed, its one-line error.</summary>
    public static void Ended(Activity? span, int exitCode, string? error = null)
    {
        span?.SetTag("process.exit.code", exitCode);
        if (error is not null)
            span?.SetStatus(ActivityStatusCode.Error, error);
    }
}
