namespace Actors.HwBackend.Snapshots;

/// <summary>
/// State that is one section of a machine snapshot. The type that holds the state knows its
/// fields' encoding, so a new device adds a section without touching anything shared.
/// </summary>
public interface ISnapshotSection<TSelf>
    where TSelf : ISnapshotSection<TSelf>
{
    /// <summary>The version this build writes and the newest it reads; raise it when the fields change.</summary>
    static abstract ushort SnapshotVersion { get; }

    void Write(SnapshotSectionWriter writer);

    /// <summary>
    /// Decodes a payload that <paramref name="version"/> (1..<see cref="SnapshotVersion"/>) of this
    /// type wrote. Throws only <see cref="SnapshotException"/>, through the reader.
    /// </summary>
    static abstract TSelf Read(ref SnapshotSectionReader reader, ushort version);
}
