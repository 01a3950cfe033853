namespace Actors.HwBackend.Abstractions;

/// <summary>Why <c>Run</c> returned. A small value type: exits happen on the hot path and must not allocate.</summary>
public readonly record struct VpExit(VpExitReason Reason, ulong Address = 0, byte Size = 0, ulong Data = 0, string? Message = null)
{
    /// <summary>The I/O port for <see cref="VpExitReason.PortIn"/> and <see cref="VpExitReason.PortOut"/>.</summary>
    public ushort Port => (ushort)Address;
}
