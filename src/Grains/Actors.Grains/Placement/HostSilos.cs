namespace Actors.Grains.Placement;

/// <summary>
/// Maps host names to silos through the membership snapshot. Silo names are host names; the snapshot is
/// filled before a silo joins, unlike silo metadata, so a lookup never races with a silo's arrival.
/// </summary>
public static class HostSilos
{
    public static SiloAddress? Find(ClusterMembershipSnapshot snapshot, string host, IEnumerable<SiloAddress>? candidates = null)
    {
        IEnumerable<SiloAddress> silos = candidates ?? snapshot.Members.Keys;
        foreach (SiloAddress silo in silos)
        {
            if (snapshot.Members.TryGetValue(silo, out ClusterMember? member)
                && member.Status == SiloStatus.Active
                && string.Equals(member.Name, host, StringComparison.Ordinal))
            {
                return silo;
            }
        }

        return null;
    }

    public static string? NameOf(ClusterMembershipSnapshot snapshot, SiloAddress silo) =>
        snapshot.Members.TryGetValue(silo, out ClusterMember? member) ? member.Name : null;
}
