namespace Actors.Hvctl;

/// <summary>
/// Where hvctl reads and writes. Guest console bytes go to <see cref="StandardOutput"/> unchanged; tables and
/// messages go through the writers. Tests substitute memory streams and string writers.
/// </summary>
internal sealed record HvctlIo(Stream StandardInput, Stream StandardOutput, TextWriter Out, TextWriter Error)
{
    /// <summary>
    /// <see cref="Out"/> is a terminal: progress lines redraw themselves with '\r' and <c>--watch</c> clears the
    /// screen; into a pipe or file they are plain lines instead, which a script or a log can read.
    /// </summary>
    public bool OutIsTerminal { get; init; }

    /// <summary><see cref="Error"/> is a terminal (see <see cref="OutIsTerminal"/>).</summary>
    public bool ErrorIsTerminal { get; init; }

    /// <summary>The terminal's width in columns, so that a progress line never wraps (a wrapped line cannot be redrawn); 0 when unknown.</summary>
    public int TerminalColumns { get; init; }

    public static HvctlIo System => new(
        Console.OpenStandardInput(), Console.OpenStandardOutput(), Console.Out, Console.Error)
    {
        OutIsTerminal = !Console.IsOutputRedirected,
        ErrorIsTerminal = !Console.IsErrorRedirected,
        TerminalColumns = Columns(),
    };

    private static int Columns()
    {
        try
        {
            return Console.IsOutputRedirected && Console.IsErrorRedirected ? 0 : Console.WindowWidth;
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException)
        {
            return 0; // no controlling terminal after all
        }
    }
}
