namespace Actors.Bench;

/// <summary>The reference run of the same image under QEMU TCG.</summary>
internal sealed record QemuRun(int ExitCode, TimeSpan Elapsed);
