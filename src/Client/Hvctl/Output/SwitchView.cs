using Actors.Grains;

namespace Actors.Hvctl.Output;

/// <summary>
/// A virtual switch as <c>switch show -o json</c> prints it and <c>switch list -o json</c> prints each: one shape
/// for both, ports included. <see cref="Dropped"/> counts the frames dropped before any port (malformed, from
/// unplugged ports or spoofed).
/// </summary>
internal sealed record SwitchView(string Name, DateTime CreatedAt, long Dropped, IReadOnlyList<SwitchPortView> Ports)
{
    public static SwitchView From(SwitchInfo info, SwitchStatus status) =>
        new(info.Name, info.CreatedAt.UtcDateTime, status.Dropped, [.. status.Ports.Select(SwitchPortView.From)]);
}
