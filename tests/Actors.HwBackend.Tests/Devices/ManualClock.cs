using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Tests.Devices;

/// <summary>A platform clock that only moves when the test sets it.</summary>
internal sealed class ManualClock(long now = 0) : IPlatformClock
{
    public long Now { get; set; } = now;

    public long NowNanoseconds => Now;
}
