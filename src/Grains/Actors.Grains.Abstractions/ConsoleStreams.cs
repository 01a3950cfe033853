namespace Actors.Grains;

/// <summary>
/// Where a VM's console output is published: a stream per VM in the <see cref="Namespace"/> namespace of the
/// <see cref="Provider"/> stream provider. Streams are addressed by id, not by grain location, so
/// subscribers keep receiving when the producing grain moves.
/// </summary>
public static class ConsoleStreams
{
    public const string Provider = "console";
    public const string Namespace = "serial";
}
