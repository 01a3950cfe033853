namespace Actors.HwBackend.Abstractions;

/// <summary>A guest-physical range backed by RAM, starting <paramref name="RamOffset"/> bytes into the machine's RAM.</summary>
public readonly record struct RamRegion(string Name, ulong Base, ulong Size, ulong RamOffset);
