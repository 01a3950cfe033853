namespace Actors.Client.Tests;

/// <summary>The test classes that share one <see cref="OutputCluster"/>; xunit runs them one after another.</summary>
[CollectionDefinition(OutputCluster.Collection)]
public sealed class OutputClusterCollection : ICollectionFixture<OutputCluster>;
