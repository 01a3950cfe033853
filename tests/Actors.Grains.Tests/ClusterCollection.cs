using Xunit;

namespace Actors.Grains.Tests;

/// <summary>
/// All cluster tests share one cluster: starting three silos costs more than any single test. They
/// run alone, after the tests that build clusters of their own: on a two-core machine those
/// clusters' guests starve this one's, and its tests time answers in seconds (a bystander VM must
/// answer within 1 s while two migrations run).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
