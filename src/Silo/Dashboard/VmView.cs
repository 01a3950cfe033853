namespace Actors.Silo.Dashboard;

/// <summary>
/// A VM as the dashboard shows it. <paramref name="Problem"/> is why it failed or ended, if it did;
/// <paramref name="Console"/> the last lines of its serial console that this dashboard saw.
/// </summary>
internal sealed record VmView(
    string Name,
    string State,
    string? Host,
    int Vcpus,
    ulong MemoryBytes,
    string Image,
    string? Heartbeat,
    string? Problem,
    string Console);
