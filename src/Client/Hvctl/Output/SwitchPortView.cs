using Actors.Grains;

namespace Actors.Hvctl.Output;

/// <summary>One port of a switch: the VM's adapter it is ("vm/nic0"), where its frames go, and frames and bytes each way (in: from the VM to the switch).</summary>
internal sealed record SwitchPortView(
    string Port, string Vm, int Nic, string Mac, string? Host, long FramesIn, long BytesIn, long FramesOut, long BytesOut, long Dropped)
{
    public static SwitchPortView From(SwitchPortStatus p) =>
        new(p.Port.ToString(), p.Port.Vm, p.Port.Nic, p.Port.Mac, p.Host, p.FramesIn, p.BytesIn, p.FramesOut, p.BytesOut, p.Dropped);
}
