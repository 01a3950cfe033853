using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Actors.Silo.Web;

/// <summary>
/// <c>GET /healthz</c> (liveness) and <c>GET /readyz</c> (readiness), as Kubernetes probes expect them: 200 or 503,
/// and a one-line plain-text reason a person can read in <c>kubectl describe pod</c>. The checks are called
/// directly rather than through ASP.NET Core's health check service, which logs every unhealthy answer as an
/// error: a joining silo is not ready many times over, and that is no error.
/// </summary>
internal static class SiloHealthEndpoints
{
    public const string LivenessPath = "/healthz";
    public const string ReadinessPath = "/readyz";

    /// <summary>Maps the probes over the silo's membership and runtime.</summary>
    public static void Map(IEndpointRouteBuilder web, IServiceProvider silo)
    {
        var membership = silo.GetRequiredService<ISiloStatusOracle>();
        // One instance for the server's life: it remembers when it last asked the runtime's participants.
        var liveness = new SiloLivenessCheck(membership, [.. silo.GetServices<IHealthCheckParticipant>()]);
        var readiness = new SiloReadinessCheck(membership);
        web.MapGet(LivenessPath, (CancellationToken cancellation) => AnswerAsync(liveness, cancellation));
        web.MapGet(ReadinessPath, (CancellationToken cancellation) => AnswerAsync(readiness, cancellation));
    }

    /// <summary>200 "ok", or 503 and the check's reason.</summary>
    private static async Task<IResult> AnswerAsync(IHealthCheck check, CancellationToken cancellation)
    {
        HealthCheckResult result = await check.CheckHealthAsync(new HealthCheckContext(), cancellation).ConfigureAwait(false);
        return result.Status == HealthStatus.Healthy
            ? Results.Text("ok\n", "text/plain", statusCode: StatusCodes.Status200OK)
            : Results.Text($"{result.Description}\n", "text/plain", statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
