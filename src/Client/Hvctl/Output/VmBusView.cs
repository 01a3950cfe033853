using Actors.Grains;

namespace Actors.Hvctl.Output;

/// <summary>A running VM's VMBus as <c>vm bus -o json</c> prints it: whether the guest connected, at which version, and every channel offered.</summary>
internal sealed record VmBusView(string Vm, string Host, bool Connected, string? Version, IReadOnlyList<VmBusChannelView> Channels)
{
    public static VmBusView From(string vm, VmBusStatus bus) =>
        new(vm, bus.Host, bus.Connected, bus.Version, [.. bus.Channels.Select(VmBusChannelView.From)]);
}
