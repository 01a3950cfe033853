using OpenTelemetry.Trace;

namespace Actors.Silo;

/// <summary>
/// Leaves out the traces an idle silo would export by the thousand each second: each console stream's
/// pulling agent asks its queue for messages every few milliseconds, and each grain timer's tick is a call of
/// its own. Such a call starts a trace only when nothing called it; one inside a trace begun elsewhere (an
/// hvctl command, say) is kept with its trace, since the parent-based sampler around this one decides those.
/// </summary>
internal sealed class IdleTraceSampler : Sampler
{
    /// <summary>The Orleans calls that are housekeeping when they begin a trace.</summary>
    private static readonly HashSet<string> Housekeeping = new(StringComparer.Ordinal)
    {
        "IMemoryStreamQueueGrain/Dequeue",
        "IGrainTimerInvoker/InvokeCallbackAsync",
        // Orleans' dashboard, on a silo with --dashboard, samples the silo's counters every second (the management
        // grain asks each silo, and a dropped call leaves its own calls without a parent).
        "ISiloGrainService/ReportCounters",
        "IManagementGrain/GetRuntimeStatistics",
        "ISiloControl/GetRuntimeStatistics",
    };

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        new(Housekeeping.Contains(samplingParameters.Name) ? SamplingDecision.Drop : SamplingDecision.RecordAndSample);
}
