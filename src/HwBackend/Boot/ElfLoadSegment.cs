namespace Actors.HwBackend.Boot;

/// <summary>One PT_LOAD program header, with its file range already checked against the image.</summary>
internal readonly record struct ElfLoadSegment(
    int Index,
    ulong VirtualAddress,
    ulong PhysicalAddress,
    int FileOffset,
    int FileSize,
    ulong MemorySize);
