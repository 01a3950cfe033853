using System.Globalization;
using System.Net;

namespace Actors.Silo;

/// <summary>
/// Without Redis the primary silo holds the cluster's membership in memory. A primary that restarts holds an
/// empty one, whose version is lower than the one the other silos last read, and Orleans makes each of them
/// terminate when it sees that. So every silo that joined such a cluster on this machine leaves a marker (its
/// process and start time) in a directory named after the primary's endpoint, and a primary that finds a
/// marker of a silo still running refuses to start instead. Markers of processes that are gone are stale and removed.
/// Silos on other machines leave no marker here: clusters that span machines keep membership in Redis.
/// </summary>
internal sealed class PrimaryRestartGuard : IDisposable
{
    private readonly string _marker;

    private PrimaryRestartGuard(string marker) => _marker = marker;

    /// <summary>
    /// Before a primary silo starts (no Redis, no --join): refuses if a silo that joined an earlier run of it
    /// still runs.
    /// </summary>
    public static void CheckPrimaryStart(SiloSettings settings)
    {
        if (settings.Redis is not null || settings.Join is not null)
            return;
        string[] running = [.. Directory.GetFiles(MarkerDirectory(settings), "*.silo").Select(RunningSilo).OfType<string>()];
        if (running.Length > 0)
        {
            throw new SiloConfigurationException(
                $"silos that joined this one before it stopped still run ({string.Join(", ", running)}) and would end if it restarted; " +
                "stop them first, or keep membership in Redis (--redis) so that any silo can restart");
        }
    }

    /// <summary>
    /// Once a silo has joined a primary: leaves its marker until disposed. Not before: a silo still joining
    /// holds no table version, and its marker would stop the primary it waits for. Null for the primary itself
    /// and with Redis.
    /// </summary>
    public static PrimaryRestartGuard? Joined(SiloSettings settings)
    {
        if (settings.Redis is not null || settings.Join is null)
            return null;
        string marker = Path.Combine(MarkerDirectory(settings), $"{settings.HostName}.silo");
        File.WriteAllText(marker, $"{Environment.ProcessId} {StartTime(Environment.ProcessId)}");
        return new PrimaryRestartGuard(marker);
    }

    private static string MarkerDirectory(SiloSettings settings)
    {
        IPEndPoint primary = settings.PrimaryEndpoint;
        string directory = Path.Combine(
            Path.GetTempPath(), $"actors-{Environment.UserName}", "clusters", $"{primary.Address}_{primary.Port.ToString(CultureInfo.InvariantCulture)}");
        Directory.CreateDirectory(directory);
        return directory;
    }

    public void Dispose() => File.Delete(_marker);

    /// <summary>"host (pid N)" if the marker's process still runs, else null (and the stale marker is removed).</summary>
    private static string? RunningSilo(string marker)
    {
        string[] fields = File.ReadAllText(marker).Split(' ');
        if (fields.Length == 2 && int.TryParse(fields[0], CultureInfo.InvariantCulture, out int pid) && pid != Environment.ProcessId
            && StartTime(pid) is { } started && started == fields[1])
        {
            return $"{Path.GetFileNameWithoutExtension(marker)} (pid {pid})";
        }

        File.Delete(marker);
        return null;
    }

    /// <summary>
    /// When the process started, in clock ticks since boot (field 22 of /proc/PID/stat), which tells it apart
    /// from a later process given the same pid; null if there is no such process. Process.StartTime would not
    /// do: it adds a boot time computed anew on each call, which differs between processes.
    /// </summary>
    private static string? StartTime(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 ? fields[19] : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
