using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Silo.Dashboard;

/// <summary>
/// The page itself: plain HTML, CSS and JavaScript embedded in the silo's assembly (no build step, nothing
/// fetched from elsewhere, so it works on a machine without internet access).
/// </summary>
internal static class DashboardAssets
{
    private static readonly (string Path, string Resource, string ContentType)[] Files =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/dashboard.css", "dashboard.css", "text/css; charset=utf-8"),
        ("/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"),
    ];

    public static void Map(IEndpointRouteBuilder web)
    {
        foreach ((string path, string resource, string contentType) in Files)
        {
            byte[] content = Read(resource);
            web.MapGet(path, (HttpResponse response) =>
            {
                // A new silo version serves a new page; the browser asks again rather than keep an old one.
                response.Headers.CacheControl = "no-cache";
                return Results.Bytes(content, contentType);
            });
        }
    }

    private static byte[] Read(string name)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Actors.Silo.Dashboard.{name}")
            ?? throw new InvalidOperationException($"the dashboard's {name} is not embedded in the silo");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
