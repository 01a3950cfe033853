using Actors.Grains;

namespace Actors.Hvctl.Output;

/// <summary>A VM's network adapter: its index, the switch its port is on, and its MAC address (the one it really has, configured or derived).</summary>
internal sealed record VmNicView(int Index, string Switch, string Mac)
{
    public static VmNicView From(string vm, int index, NetworkAdapterConfiguration nic) => new(index, nic.Switch, nic.AddressOf(vm, index));
}
