using Xunit;

namespace Actors.HwBackend.Tests.Guests;

/// <summary>
/// Tests whose guests measure time (timer rates against the TSC): they run alone, after the
/// parallel tests, so the differential and conformance suites do not starve their vCPU and timer
/// threads of the machine's cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitiveCollection
{
    public const string Name = "timing-sensitive";
}
