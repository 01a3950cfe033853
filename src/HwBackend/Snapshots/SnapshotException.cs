namespace Actors.HwBackend.Snapshots;

/// <summary>
/// A machine snapshot was refused: it is damaged, from a build that writes something this one
/// cannot read, or of another machine. The message is one line that names the part at fault, so
/// that a migration's failure report says what to look at.
/// </summary>
public sealed class SnapshotException : Exception
{
    public SnapshotException(string message)
        : base(message)
    {
    }

    public SnapshotException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A refusal of one section: its message starts with the section's id.</summary>
    public static SnapshotException InSection(string section, string problem) => new($"snapshot section '{section}': {problem}");

    /// <summary>Refuses <paramref name="section"/> when a component's restore check found a <paramref name="problem"/>.</summary>
    public static void ThrowIfProblem(string section, string? problem)
    {
        if (problem is not null)
            throw InSection(section, problem);
    }
}
