using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Actors.Silo.Web;

/// <summary>
/// Alive means the Orleans runtime still works, whatever its membership status: a silo that is joining or
/// shutting down is alive, since restarting it would only lose its VMs sooner. It is not alive once the cluster
/// has declared it dead, or when one of the runtime's own health participants (the membership timers Orleans'
/// watchdog also polls) says it has stalled.
/// </summary>
internal sealed class SiloLivenessCheck(ISiloStatusOracle membership, IReadOnlyList<IHealthCheckParticipant> participants) : IHealthCheck
{
    private long _lastCheck = DateTime.UtcNow.ToBinary();

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (membership.CurrentStatus == SiloStatus.Dead)
            return Task.FromResult(HealthCheckResult.Unhealthy($"silo {membership.SiloName} has been declared dead by cluster membership"));

        // Probes may overlap; each participant is asked about the time since the previous probe began.
        var since = DateTime.FromBinary(Interlocked.Exchange(ref _lastCheck, DateTime.UtcNow.ToBinary()));
        foreach (IHealthCheckParticipant participant in participants)
        {
            if (!participant.CheckHealth(since, out string? reason))
                return Task.FromResult(HealthCheckResult.Unhealthy($"{participant.GetType().Name}: {reason}"));
        }

        return Task.FromResult(HealthCheckResult.Healthy($"silo {membership.SiloName} is {membership.CurrentStatus}"));
    }
}
