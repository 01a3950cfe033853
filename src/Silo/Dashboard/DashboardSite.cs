using System.Security.Authentication;
using Actors.Grains.Security;
using Actors.Silo.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Actors.Silo.Dashboard;

/// <summary>
/// The web dashboard on <c>--dashboard PORT</c>: the page, its live feed (<c>GET /events</c>, server-sent
/// events), the snapshot as JSON (<c>GET /api/snapshot</c>), the operator's actions
/// (<see cref="DashboardActions"/>) and Orleans' own dashboard under <see cref="OrleansDashboardLink.Path"/>.
/// With the silo's TLS credentials it is HTTPS with the silo's certificate and lets in only browsers and tools
/// that show a client certificate of the cluster's CA, as the gateway does; without, it is plain HTTP, for
/// development on loopback.
/// </summary>
internal static class DashboardSite
{
    public static SiloWebSite Create(SiloSettings settings)
    {
        TlsCredentials? tls = settings.Tls;
        return new SiloWebSite("dashboard port", "--dashboard", (web, silo) => Map(web, silo, tls is not null))
        {
            AddServices = (services, silo) => services.AddSingleton(_ => Feed(silo, settings.HostName)),
            Secure = tls is null ? null : listen => listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = tls.Certificate,
                ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                // The cluster's own rule, not the machine's trust store: issued by the cluster's CA and in date.
                ClientCertificateValidation = (certificate, _, _) => tls.Check(certificate) is null,
                SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            }),
        };
    }

    private static DashboardFeed Feed(IServiceProvider silo, string host)
    {
        var cluster = silo.GetRequiredService<IClusterClient>();
        ILogger logger = silo.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DashboardSite).Namespace!);
        CancellationToken stopping = silo.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        return new DashboardFeed(new ClusterSnapshotReader(cluster, host, new ConsoleTails(cluster, logger)), logger, stopping);
    }

    private static void Map(WebApplication web, IServiceProvider silo, bool secure)
    {
        DashboardFeed feed = web.Services.GetRequiredService<DashboardFeed>();
        web.Use(async (context, next) =>
        {
            // Not to be framed by another site's page, which could trick a click on an action.
            context.Response.Headers.XFrameOptions = "DENY";
            context.Response.Headers.ContentSecurityPolicy = "frame-ancestors 'none'";
            if (SameOriginGuard.Refusal(context.Request, secure) is { } refusal)
            {
                await Results.Json(new DashboardAnswer(Error: refusal), DashboardJson.Readable.DashboardAnswer, statusCode: StatusCodes.Status403Forbidden)
                    .ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });

        DashboardAssets.Map(web);
        web.MapGet("/events", (HttpContext context) => TypedResults.ServerSentEvents(SnapshotsAsync(feed, web, context), "snapshot"));
        web.MapGet("/api/snapshot", (CancellationToken aborted) => FirstSnapshotAsync(feed, aborted));
        DashboardActions.Map(web, silo.GetRequiredService<IClusterClient>(), feed);
        OrleansDashboardLink.Map(web, silo);
    }

    /// <summary>The feed until the page goes or the server stops (an open event stream would hold up its stop).</summary>
    private static async IAsyncEnumerable<string> SnapshotsAsync(DashboardFeed feed, WebApplication web, HttpContext context)
    {
        using var until = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, web.Lifetime.ApplicationStopping);
        IAsyncEnumerator<string> snapshots = feed.WatchAsync(until.Token).GetAsyncEnumerator(until.Token);
        try
        {
            while (true)
            {
                try
                {
                    if (!await snapshots.MoveNextAsync().ConfigureAwait(false))
                        yield break;
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }

                yield return snapshots.Current;
            }
        }
        finally
        {
            await snapshots.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<IResult> FirstSnapshotAsync(DashboardFeed feed, CancellationToken aborted)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        limit.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await foreach (string snapshot in feed.WatchAsync(limit.Token).ConfigureAwait(false))
                return Results.Text(snapshot, "application/json; charset=utf-8");
        }
        catch (OperationCanceledException)
        {
        }

        return Results.Json(new DashboardAnswer(Error: "the cluster was not read within 10 s"), DashboardJson.Readable.DashboardAnswer, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
