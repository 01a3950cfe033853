using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Actors.Silo.Web;

/// <summary>
/// Ready means Active in cluster membership: only then does the silo take grain calls and gateway clients, so
/// only then may Kubernetes send it traffic. While it joins or shuts down the reason says which.
/// </summary>
internal sealed class SiloReadinessCheck(ISiloStatusOracle membership) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        SiloStatus status = membership.CurrentStatus;
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"silo {membership.SiloName} is Active")
            : HealthCheckResult.Unhealthy($"silo {membership.SiloName} is {status}, not Active in cluster membership"));
    }
}
