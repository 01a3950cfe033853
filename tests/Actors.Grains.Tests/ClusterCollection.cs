using Xunit;

namespace Actors.Grains.Tests;

/// <summary>All cluster tests share one cluster: starting three silos costs more than any single test.</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
