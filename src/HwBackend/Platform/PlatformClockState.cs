using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Platform;

/// <summary>Where a machine's <see cref="PlatformClock"/> stands: the timers' saved deadlines are relative to it.</summary>
public sealed record PlatformClockState(long Nanoseconds) : ISnapshotSection<PlatformClockState>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer) => writer.WriteInt64(Nanoseconds);

    public static PlatformClockState Read(ref SnapshotSectionReader reader, ushort version) => new(reader.ReadInt64());
}
