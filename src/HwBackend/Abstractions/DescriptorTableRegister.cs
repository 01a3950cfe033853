namespace Actors.HwBackend.Abstractions;

/// <summary>GDTR or IDTR: linear base and limit.</summary>
public record struct DescriptorTableRegister(ulong Base, ushort Limit);
