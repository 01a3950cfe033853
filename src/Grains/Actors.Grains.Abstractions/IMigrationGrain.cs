namespace Actors.Grains;

/// <summary>
/// The coordinator of one live migration, keyed by migration id: it drives the source host's
/// pre-copy passes and the switch-over, and keeps the progress in grain storage.
/// </summary>
[Alias("Actors.IMigrationGrain")]
public interface IMigrationGrain : IGrainWithStringKey
{
    /// <summary>Starts moving <paramref name="vm"/> from <paramref name="source"/> to <paramref name="target"/>; returns at once.</summary>
    [Alias("Start")]
    Task<MigrationStatus> StartAsync(string vm, string source, string target, long memoryBytes, MigrationOptions options);

    /// <summary>The progress; throws <see cref="HypervisorException"/> for an unknown migration id.</summary>
    [Alias("GetStatus")]
    Task<MigrationStatus> GetStatusAsync();
}
