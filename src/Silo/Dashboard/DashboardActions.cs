using System.Text.Json;
using Actors.Grains;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Silo.Dashboard;

/// <summary>
/// What an operator can do from the dashboard: <c>POST /api/vms/NAME/start|stop|pause|resume</c>, and
/// <c>POST /api/vms/NAME/migrate</c> with <c>{"target": "HOST"}</c>. Each is one call to the VM's partition,
/// as <c>hvctl</c> makes it. A refusal (an unknown VM or host, a VM in the wrong state) answers 409 with the
/// cluster's one-line reason; a cluster that does not answer, 503.
/// </summary>
internal static class DashboardActions
{
    public static void Map(IEndpointRouteBuilder web, IClusterClient cluster, DashboardFeed feed)
    {
        web.MapPost("/api/vms/{name}/{action}", (string name, string action) => action switch
        {
            "start" => RunAsync(name, "started", feed, () => Vm(cluster, name).StartAsync()),
            "stop" => RunAsync(name, "stopped", feed, () => Vm(cluster, name).StopAsync()),
            "pause" => RunAsync(name, "paused", feed, () => Vm(cluster, name).PauseAsync()),
            "resume" => RunAsync(name, "resumed", feed, () => Vm(cluster, name).ResumeAsync()),
            _ => Task.FromResult(Answer(StatusCodes.Status404NotFound, new DashboardAnswer(Error: $"no action '{action}'; use start, stop, pause, resume or migrate"))),
        });
        web.MapPost("/api/vms/{name}/migrate", (string name, HttpRequest request) => MigrateAsync(cluster, feed, name, request));
    }

    private static async Task<IResult> MigrateAsync(IClusterClient cluster, DashboardFeed feed, string name, HttpRequest request)
    {
        MigrateRequest? body;
        try
        {
            body = await request.ReadFromJsonAsync(DashboardJson.Readable.MigrateRequest, request.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            body = null;
        }

        if (body?.Target is not { Length: > 0 } target)
            return Answer(StatusCodes.Status400BadRequest, new DashboardAnswer(Error: "give the host to migrate to as JSON: {\"target\": \"HOST\"}"));
        string? migration = null;
        IResult answer = await RunAsync(name, $"migrating to {target}", feed, async () =>
        {
            migration = await Vm(cluster, name).MigrateAsync(target, MigrationOptions.Default).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return migration is null ? answer : Answer(StatusCodes.Status200OK, new DashboardAnswer($"{name}: migrating to {target}", Migration: migration));
    }

    private static async Task<IResult> RunAsync(string name, string done, DashboardFeed feed, Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
            return Answer(StatusCodes.Status200OK, new DashboardAnswer($"{name}: {done}"));
        }
        catch (HypervisorException e)
        {
            return Answer(StatusCodes.Status409Conflict, new DashboardAnswer(Error: e.Message));
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            return Answer(StatusCodes.Status503ServiceUnavailable, new DashboardAnswer(Error: $"the cluster did not answer ({e.GetType().Name}); try again once its silos are up"));
        }
        finally
        {
            feed.Wake();
        }
    }

    private static IPartitionGrain Vm(IClusterClient cluster, string name) => cluster.GetGrain<IPartitionGrain>(name);

    private static IResult Answer(int status, DashboardAnswer answer) => Results.Json(answer, DashboardJson.Readable.DashboardAnswer, statusCode: status);
}
