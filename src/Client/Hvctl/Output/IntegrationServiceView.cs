namespace Actors.Hvctl.Output;

/// <summary>
/// One integration service line of <c>vm show</c> ("heartbeat: ok, 0.4 s ago (...)") as a name and its state,
/// which stays free text: each service words its own state.
/// </summary>
internal sealed record IntegrationServiceView(string Name, string State)
{
    public static IntegrationServiceView Parse(string line)
    {
        int colon = line.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? new(line, string.Empty) : new(line[..colon], line[(colon + 1)..].TrimStart());
    }
}
