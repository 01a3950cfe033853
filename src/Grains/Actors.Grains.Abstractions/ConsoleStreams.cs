namespace Actors.Grains;

/// <summary>
/// Where a VM's console output is published: a stream per VM in the <see cref="Namespace"/> namespace of the
/// <see cref="Provider"/> stream provider. Streams are addressed by id, not by grain location, so
/// subscribers keep receiving when the producing grain moves.
/// </summary>
public static class ConsoleStreams
{
    /// <summary>The name of the stream provider (memory streams) that carries console output; clients register it under this name.</summary>
    public const string Provider = "console";
    /// <summary>The stream namespace of console streams; a VM's stream id is this namespace and the VM's name.</summary>
    public const string Namespace = "serial";
}
