namespace Actors.HwBackend.Snapshots;

/// <summary>Where one section of a snapshot lies, as its header gives it; the payload is unread.</summary>
public readonly record struct SnapshotSectionInfo(string Id, ushort Version, int PayloadOffset, int PayloadLength);
