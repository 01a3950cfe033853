using Actors.Client;
using Actors.Grains;

namespace Actors.Hvctl;

/// <summary>Copies a VM's console to an output stream byte for byte until the VM stops or the caller cancels.</summary>
internal static class ConsoleSession
{
    // After the VM stops, its last batches may still be on their way through the stream.
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(3);

    public static bool IsStopped(VmStatus status) => status.State is VmState.Off or VmState.Failed;

    /// <summary>
    /// Pumps <paramref name="subscription"/> to <paramref name="output"/> until the VM is Off or Failed (then
    /// returns its final status after the output it reported has arrived) or until <paramref name="stop"/> completes
    /// (then returns null). Disposes the subscription.
    /// </summary>
    public static async Task<VmStatus?> PumpAsync(
        HypervisorClient client,
        ConsoleSubscription subscription,
        Stream output,
        Task stop,
        CancellationToken cancellationToken)
    {
        Task pump = CopyAsync(subscription, output);
        try
        {
            using var stopWaiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task<VmStatus> stopped = client.WaitForStateAsync(
                subscription.VmName, IsStopped, System.Threading.Timeout.InfiniteTimeSpan, stopWaiting.Token);
            Task first = await Task.WhenAny(stopped, stop).ConfigureAwait(false);
            if (first != stopped)
            {
                await stopWaiting.CancelAsync().ConfigureAwait(false);
                return null;
            }

            VmStatus final = await stopped.ConfigureAwait(false);
            // The host published the last output before it reported the exit, so a marker sent now arrives after it.
            await subscription.FlushAsync(DrainTimeout, cancellationToken).ConfigureAwait(false);
            return final;
        }
        finally
        {
            // Completing the subscription lets the pump write what is queued and end.
            await subscription.DisposeAsync().ConfigureAwait(false);
            await pump.ConfigureAwait(false);
        }
    }

    private static async Task CopyAsync(ConsoleSubscription subscription, Stream output)
    {
        await foreach (ConsoleOutput batch in subscription.ReadAllAsync().ConfigureAwait(false))
        {
            await output.WriteAsync(batch.Data).ConfigureAwait(false);
            await output.FlushAsync().ConfigureAwait(false);
        }
    }
}
