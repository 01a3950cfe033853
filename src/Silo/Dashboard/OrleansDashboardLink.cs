using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace Actors.Silo.Dashboard;

/// <summary>
/// Orleans' own dashboard (<c>Microsoft.Orleans.Dashboard</c>: silos, grain activations, call rates, the silo's
/// log), served under <see cref="Path"/> by our dashboard's server and so behind the same TLS and the same
/// <see cref="SameOriginGuard"/>. Its routes expect its services in the web application's container, but they
/// live in the silo's, where <c>AddDashboard</c> put them beside its grain call filter and grain service; so its
/// routes are mapped over the silo's services, and its requests are served with them.
/// <para>
/// Its grains come with the package to every silo, but only a silo that added its services can run them; so a
/// silo without a dashboard leaves them out of what it offers the cluster, and they are placed on one with.
/// </para>
/// </summary>
internal static class OrleansDashboardLink
{
    public const string Path = "/orleans";

    /// <summary>Adds Orleans' dashboard to a silo that <paramref name="serves"/> it, and keeps its grains off one that does not.</summary>
    public static void Configure(ISiloBuilder silo, bool serves)
    {
        if (serves)
            silo.AddDashboard();
        else
            silo.Services.Configure<GrainTypeOptions>(o => o.Classes.RemoveWhere(c => c.Assembly == typeof(DashboardOptions).Assembly));
    }

    public static void Map(WebApplication web, IServiceProvider silo)
    {
        web.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments(Path))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            IServiceProvider own = context.RequestServices;
            context.RequestServices = silo;
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                context.RequestServices = own;
            }
        });
        new SiloServicesRoutes(web, silo).MapOrleansDashboard(Path);
    }

    /// <summary>The web application's routes, built over the silo's services.</summary>
    private sealed class SiloServicesRoutes(IEndpointRouteBuilder web, IServiceProvider silo) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider => silo;

        public ICollection<EndpointDataSource> DataSources => web.DataSources;

        public IApplicationBuilder CreateApplicationBuilder() => web.CreateApplicationBuilder();
    }
}
