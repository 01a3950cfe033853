using System.Text;
using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.VmBus.IntegrationServices;

/// <summary>
/// What a <see cref="KvpService"/> owes its guest: the pushes not yet delivered, in order, the one
/// the guest had not answered first. Saved as the <c>kvp</c> section, so that a value the user
/// pushed is not lost when the VM moves; the rest of the service starts over on the target.
/// </summary>
public sealed record KvpServiceState(IReadOnlyList<KeyValuePair<string, string>> Pushes) : ISnapshotSection<KvpServiceState>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteInt32(Pushes.Count);
        foreach ((string key, string value) in Pushes)
        {
            writer.WriteByteArray(Encoding.UTF8.GetBytes(key));
            writer.WriteByteArray(Encoding.UTF8.GetBytes(value));
        }
    }

    public static KvpServiceState Read(ref SnapshotSectionReader reader, ushort version)
    {
        int count = reader.ReadInt32();
        if (count is < 0 or > KvpService.MaxQueuedPushes + 1)
            throw reader.Refuse($"{count} waiting pushes, more than the {KvpService.MaxQueuedPushes + 1} a service holds");
        var pushes = new List<KeyValuePair<string, string>>(count);
        for (int i = 0; i < count; i++)
        {
            byte[] key = reader.ReadByteArray(), value = reader.ReadByteArray();
            if (key.Length > KvpService.MaxKeyBytes || value.Length > KvpService.MaxValueBytes)
                throw reader.Refuse($"push {i} is longer than a KVP field");
            pushes.Add(new(Encoding.UTF8.GetString(key), Encoding.UTF8.GetString(value)));
        }
        return new KvpServiceState(pushes);
    }
}
