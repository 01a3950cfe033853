namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// The guest-visible state of a <see cref="FwCfgDevice"/>: which item is selected and how far into
/// it the guest has read. The items themselves are configuration the machine rebuilds.
/// </summary>
public sealed record FwCfgState(ushort Selector, int Offset);
