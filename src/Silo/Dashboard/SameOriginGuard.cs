using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Actors.Silo.Dashboard;

/// <summary>
/// Keeps other web pages from driving the cluster through an operator's browser. A browser sends a page's
/// requests to the dashboard with the operator's client certificate, whichever site the page came from; so an
/// action (any request but GET and HEAD) is refused unless the browser says it came from the dashboard's own
/// page (<c>Sec-Fetch-Site: same-origin</c>, and an <c>Origin</c> that is the dashboard's). Tools such as curl
/// send neither header and are let through: they hold the certificate themselves.
/// <para>
/// Without TLS a page elsewhere could also point a name of its own at the dashboard's address (DNS rebinding)
/// and so become same-origin; there every request must name the dashboard by address or as localhost.
/// </para>
/// </summary>
internal static class SameOriginGuard
{
    /// <summary>Why <paramref name="request"/> is refused, or null to let it through.</summary>
    public static string? Refusal(HttpRequest request, bool secure)
    {
        if (!secure && !NamesThisMachine(request.Host))
            return $"the dashboard without TLS answers only to its address or localhost, not to '{request.Host}': open it as http://ADDRESS:PORT/";
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            return null;

        StringValues site = request.Headers["Sec-Fetch-Site"];
        if (!StringValues.IsNullOrEmpty(site) && site != "same-origin" && site != "none")
            return $"cross-origin request refused ({site} page): actions are taken from the dashboard's own page";
        StringValues origin = request.Headers.Origin;
        string own = $"{request.Scheme}://{request.Host}";
        if (!StringValues.IsNullOrEmpty(origin) && !string.Equals(origin, own, StringComparison.OrdinalIgnoreCase))
            return $"cross-origin request refused (from {origin}): actions are taken from the dashboard's own page at {own}";
        return null;
    }

    private static bool NamesThisMachine(HostString host) =>
        host.HasValue && (IPAddress.TryParse(host.Host.Trim('[', ']'), out _) || string.Equals(host.Host, "localhost", StringComparison.OrdinalIgnoreCase));
}
