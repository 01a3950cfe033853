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
        GuestBoot guest,
        ulong memoryBytes,
        int processorCount,
        string? preferredHost,
        Stream output,
        CancellationToken cancellationToken,
        BackendPlacement? backend = null)
    {
        await client.CreateVmAsync(vmName, guest.ImagePath, memoryBytes, processorCount, preferredHost, cancellationToken, initrdPath: guest.InitrdPath, commandLine: guest.CommandLine, enlightened: guest.Enlightened, vspHost: guest.VspHost, disks: guest.Disks, nics: guest.Nics, backend: backend, cpuTier: guest.CpuTier).ConfigureAwait(false);
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
    /// The guest's status as QEMU reports it where QEMU has one: 0 for an ACPI poweroff,
    /// (value &lt;&lt; 1) | 1 for isa-debug-exit. Otherwise an even code no guest can produce, with
    /// a one-line reason: <see cref="ExitCodes.GuestReset"/> for a reset or reboot (panic=-1 included),
    /// <see cref="ExitCodes.GuestFailed"/> for a triple fault or another failure, and
    /// <see cref="ExitCodes.GuestStopped"/> for a guest stopped from outside: never a status a test harness reads as a pass.
    /// </summary>
    public static int ExitCodeFor(VmStatus final, TextWriter error)
    {
        if (final.ExitStatus is int status)
            return status;

        if (final.State == VmState.Failed)
        {
            error.WriteLine($"hvctl: guest '{final.Name}' failed: {HvctlApp.OneLine(final.FailureReason ?? "no reason given")}");
            return ExitCodes.GuestFailed;
        }

        if (final.EndReason is { } reason && reason.StartsWith("reset", StringComparison.Ordinal))
        {
            error.WriteLine($"hvctl: guest '{final.Name}' reset ({HvctlApp.OneLine(reason)}); a VM stops on reset, as QEMU's with -no-reboot");
            return ExitCodes.GuestReset;
        }

        error.WriteLine($"hvctl: guest '{final.Name}' stopped without an exit status (no ACPI poweroff, no write to isa-debug-exit at port 0xF4)");
        return ExitCodes.GuestStopped;
    }

    public static string UniqueVmName(string imagePath)
    {
        string stem = Path.GetFileNameWithoutExtension(imagePath);
        if (stem.Length == 0) stem = "guest";
        return $"run-{stem}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 3))}";
    }
}
