namespace Actors.HwBackend.Tests.Guests;

/// <summary>
/// One of the Makefile's RUNS: image <paramref name="Image"/> booted with the named fw_cfg files
/// <paramref name="Files"/> (QEMU's <c>-fw_cfg name=NAME,string=VALUE</c>), whose serial output and
/// status are <c>expected/</c><paramref name="Name"/><c>.out</c> and <c>.status</c>.
/// </summary>
internal sealed record GuestRun(string Name, string Image, IReadOnlyDictionary<string, string> Files);
