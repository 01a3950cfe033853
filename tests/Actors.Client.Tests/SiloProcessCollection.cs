namespace Actors.Client.Tests;

/// <summary>
/// The test classes that start silo processes of their own run one after another: on a two-core machine,
/// several clusters starting at once take longer to form than a test waits for them.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SiloProcessCollection
{
    public const string Name = "silo processes";
}
