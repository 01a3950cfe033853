using System.Diagnostics;
using Actors.Silo;
using OpenTelemetry.Trace;
using Xunit;

namespace Actors.Grains.Tests;

public sealed class IdleTraceSamplerTests
{
    private static readonly Sampler Silo = new ParentBasedSampler(new IdleTraceSampler());

    [Theory]
    [InlineData("IMemoryStreamQueueGrain/Dequeue", SamplingDecision.Drop)]
    [InlineData("IGrainTimerInvoker/InvokeCallbackAsync", SamplingDecision.Drop)]
    [InlineData("ISiloGrainService/ReportCounters", SamplingDecision.Drop)]
    [InlineData("IManagementGrain/GetRuntimeStatistics", SamplingDecision.Drop)]
    [InlineData("ISiloControl/GetRuntimeStatistics", SamplingDecision.Drop)]
    [InlineData("IPartitionGrain/StartAsync", SamplingDecision.RecordAndSample)]
    [InlineData("IMembershipTable/ReadAllAsync", SamplingDecision.RecordAndSample)]
    public void Housekeeping_calls_begin_no_trace_and_others_do(string name, SamplingDecision decision)
    {
        var root = new SamplingParameters(default, ActivityTraceId.CreateRandom(), name, ActivityKind.Server);

        Assert.Equal(decision, Silo.ShouldSample(root).Decision);
    }

    [Fact]
    public void A_housekeeping_call_inside_a_trace_begun_elsewhere_stays_in_it()
    {
        var parent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        var child = new SamplingParameters(parent, parent.TraceId, "IGrainTimerInvoker/InvokeCallbackAsync", ActivityKind.Server);

        Assert.Equal(SamplingDecision.RecordAndSample, Silo.ShouldSample(child).Decision);
    }
}
