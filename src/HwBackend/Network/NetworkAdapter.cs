namespace Actors.HwBackend.Network;

/// <summary>A VM's network adapter as its machine is built with it: its MAC address, and where the frames its guest sends go.</summary>
public sealed record NetworkAdapter(MacAddress Address, INetworkUplink Uplink);
