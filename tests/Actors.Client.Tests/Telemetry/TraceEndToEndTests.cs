using Actors.Client.Tests.Telemetry.Otlp;
using Actors.Tests.Shared;
using Xunit.Abstractions;
using static Actors.Client.Tests.HvctlEndToEndTests;

namespace Actors.Client.Tests.Telemetry;

/// <summary>
/// One trace across processes: hvctl and two silo processes export their spans over OTLP to a receiver in the
/// test, as they would to a collector, and <c>hvctl vm migrate</c> comes back as one tree.
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class TraceEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Vm_migrate_is_one_trace_from_hvctl_through_both_silos_and_the_worker()
    {
        await using OtlpReceiver otlp = await OtlpReceiver.StartAsync();
        await using TwoSiloCluster cluster = await TwoSiloCluster.StartAsync("trace", otlp.Environment);
        await cluster.StartGuestAsync("traced");

        ProcessResult migrate = await HvctlAsync(otlp.Environment, "vm", "migrate", "traced", "--to", cluster.HostB, "--gateway", cluster.Gateway);
        Assert.True(migrate.ExitCode == 0, $"exit {migrate.ExitCode}: {migrate.Out} {migrate.Error}");

        // hvctl exported its spans as it exited; the silos export theirs within a fifth of a second of their end.
        ReceivedSpan root = await Poll.UntilAsync(
            () => Task.FromResult(otlp.Spans.SingleOrDefault(s => s is { Service: "hvctl", Name: "hvctl vm migrate" })),
            s => s is not null,
            "hvctl's root span",
            TimeSpan.FromSeconds(30)) ?? throw new InvalidOperationException();
        ReceivedSpan[] trace = await Poll.UntilAsync(
            () => Task.FromResult(otlp.Spans.Where(s => s.TraceId == root.TraceId).ToArray()),
            spans => Complete(spans, cluster),
            "the migration's spans from both silos, every parent among them",
            TimeSpan.FromSeconds(30));
        foreach (ReceivedSpan span in trace)
            output.WriteLine(span.ToString());

        // hvctl's command is the root; the client SDK's operations hang below it, and Orleans' calls below those.
        Assert.Null(root.ParentSpanId);
        Assert.Equal("0", root.Attributes["process.exit.code"]);
        ReceivedSpan migrateVm = Assert.Single(trace, s => s is { Service: "hvctl", Scope: "Actors.Client", Name: "MigrateVm" });
        Assert.Equal(root.SpanId, migrateVm.ParentSpanId);
        Assert.Equal("traced", migrateVm.Attributes["actors.vm"]);
        Assert.Equal(root.SpanId, Assert.Single(trace, s => s is { Service: "hvctl", Name: "WaitForMigration" }).ParentSpanId);
        Assert.Contains(trace, s => s is { Service: "hvctl", Kind: SpanKind.Client, Scope: "Microsoft.Orleans.Application" } && s.ParentSpanId == migrateVm.SpanId);

        // Both silos served calls of this trace: W3C trace context went from hvctl to the gateway silo and from silo to silo.
        Assert.Contains(trace, s => s.Instance == cluster.HostA && s.Kind == SpanKind.Server);
        Assert.Contains(trace, s => s.Instance == cluster.HostB && s.Kind == SpanKind.Server);
        // The source's worker ran the passes and the switch-over; the target's received the pages.
        ReceivedSpan pass = trace.First(s => s is { Scope: "Actors.Hypervisor", Name: "MigrationPass" });
        Assert.Equal(cluster.HostA, pass.Instance);
        Assert.Equal("traced", pass.Attributes["actors.vm"]);
        Assert.Contains(trace, s => s is { Scope: "Actors.Hypervisor", Name: "MigrationSwitchOver" } && s.Instance == cluster.HostA);
        Assert.Contains(trace, s => s.Instance == cluster.HostB && s.Kind == SpanKind.Server && s.ParentSpanId is { } parent
            && trace.Any(p => p.SpanId == parent && p.Instance == cluster.HostA));

        // What the VM does for the rest of its life on b is no part of the command that moved it there: its console
        // output, published from b once it runs there (every ten of the guest's passes), begins traces of its own.
        ReceivedSpan[] published = await Poll.UntilAsync(
            () => Task.FromResult(otlp.Spans.Where(s => s is { Name: ConsolePublish, Kind: SpanKind.Client } && s.Instance == cluster.HostB).ToArray()),
            spans => spans.Length > 0,
            "console output published from b",
            TimeSpan.FromMinutes(1));
        Assert.All(published, s => Assert.NotEqual(root.TraceId, s.TraceId));
    }

    /// <summary>The call that puts a batch of console output on the VM's stream.</summary>
    private const string ConsolePublish = "IMemoryStreamQueueGrain/Enqueue";

    /// <summary>
    /// The trace has arrived when it holds a pass on a, a call served on b, and every span's parent (one tree,
    /// nothing cut off); a silo exports a span when it ends, a parent after its children.
    /// </summary>
    private static bool Complete(ReceivedSpan[] trace, TwoSiloCluster cluster)
    {
        var ids = trace.Select(s => s.SpanId).ToHashSet();
        return trace.Any(s => s.Name == "MigrationSwitchOver" && s.Instance == cluster.HostA)
            && trace.Any(s => s.Instance == cluster.HostB && s.Kind == SpanKind.Server)
            && trace.All(s => s.ParentSpanId is null || ids.Contains(s.ParentSpanId))
            && trace.Count(s => s.ParentSpanId is null) == 1;
    }
}
