using Actors.Client;
using Actors.Grains;

namespace Actors.Hvctl;

/// <summary>What <c>run</c> and <c>demo</c> share: define a VM, boot it, stream its console until it stops.</summary>
internal static class GuestRun
{
    /// <summary>
    /// Creates and starts the VM with its console already subscribed (so the first byte is not missed), copies the
    /// console to <paramref name="output"/>, and returns the VM's final status. On cancellation it stops the VM.
    /// </summary>
    public static async Task<VmStatus> BootAndStreamAsync(
        HypervisorClient client,
        string vmName,
        string imagePath,
        ulong memoryBytes,
        int processorCount,
        string? preferredHost,
        Stream output,
        CancellationToken cancellationToken)
    {
        await client.CreateVmAsync(vmName, imagePath, memoryBytes, processorCount, preferredHost, cancellationToken).ConfigureAwait(false);
        ConsoleSubscription subscription = await client.SubscribeConsoleAsync(vmName, cancellationToken).ConfigureAwait(false);
        try
        {
            await client.StartVmAsync(vmName).ConfigureAwait(false);
        }
        catch
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        Task interrupted = Task.Delay(Timeout.Infinite, cancellationToken);
        VmStatus? final = await ConsoleSession.PumpAsync(client, subscription, output, interrupted, CancellationToken.None).ConfigureAwait(false);
        if (final is not null)
            return final;

        try
        {
            await client.StopVmAsync(vmName).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Interrupted while the VM was already stopping; the user asked to leave, so leave.
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new OperationCanceledException(cancellationToken);
    }

    /// <summary>
    /// The guest's QEMU-compatible isa-debug-exit status ((value &lt;&lt; 1) | 1), or 1 with a one-line
    /// reason when the guest ended any other way.
    /// </summary>
    public static int ExitCodeFor(VmStatus final, TextWriter error)
    {
        if (final.ExitStatus is int status)
            return status;

        error.WriteLine(final.State == VmState.Failed
            ? $"hvctl: guest '{final.Name}' failed: {HvctlApp.OneLine(final.FailureReason ?? "no reason given")}"
            : $"hvctl: guest '{final.Name}' stopped without an exit status (it never wrote to isa-debug-exit at port 0xF4)");
        return ExitCodes.Failure;
    }

    public static string UniqueVmName(string imagePath)
    {
        string stem = Path.GetFileNameWithoutExtension(imagePath);
        if (stem.Length == 0) stem = "guest";
        return $"run-{stem}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 3))}";
    }
}
