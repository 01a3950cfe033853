using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Snapshots;

/// <summary>
/// A machine's state apart from its RAM: the platform (devices and clock), every vCPU's registers
/// in index order, and where its console output stands (the next byte's sequence number is
/// <see cref="ConsoleSequence"/> + the tail's length), so subscribers see one unbroken stream.
/// </summary>
public sealed record VirtualMachineState(PlatformState Platform, VpState[] Processors, long ConsoleSequence, byte[] ConsoleTail);
