namespace Actors.HwBackend.Devices.Legacy;

/// <summary>The guest-visible state of a <see cref="ResetControl"/>, for save/restore and live migration.</summary>
public sealed record ResetControlState(byte SystemControlPortA, byte ResetControlRegister);
