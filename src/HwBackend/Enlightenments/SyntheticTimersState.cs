using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Enlightenments;

/// <summary>One VP's <see cref="SyntheticTimers"/>: each timer's configuration, count and next deadline (platform-clock nanoseconds, long.MaxValue when unarmed).</summary>
public sealed record SyntheticTimersState(IReadOnlyList<ulong> Config, IReadOnlyList<ulong> Count, IReadOnlyList<long> Due)
    : ISnapshotSection<SyntheticTimersState>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        for (int t = 0; t < SyntheticTimers.TimerCount; t++)
        {
            writer.WriteUInt64(Config[t]);
            writer.WriteUInt64(Count[t]);
            writer.WriteInt64(Due[t]);
        }
    }

    public static SyntheticTimersState Read(ref SnapshotSectionReader reader, ushort version)
    {
        var (config, count, due) = (new ulong[SyntheticTimers.TimerCount], new ulong[SyntheticTimers.TimerCount], new long[SyntheticTimers.TimerCount]);
        for (int t = 0; t < SyntheticTimers.TimerCount; t++)
            (config[t], count[t], due[t]) = (reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadInt64());
        return new SyntheticTimersState(config, count, due);
    }
}
