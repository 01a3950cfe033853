namespace Actors.Hvctl;

/// <summary>
/// Where hvctl reads and writes. Guest console bytes go to <see cref="StandardOutput"/> unchanged; tables and
/// messages go through the writers. Tests substitute memory streams and string writers.
/// </summary>
internal sealed record HvctlIo(Stream StandardInput, Stream StandardOutput, TextWriter Out, TextWriter Error)
{
    public static HvctlIo System => new(
        Console.OpenStandardInput(), Console.OpenStandardOutput(), Console.Out, Console.Error);
}
