using System.ComponentModel;
using System.Diagnostics;

namespace Actors.Bench;

/// <summary>
/// One <c>qemu-system-x86_64</c> process (as <see cref="Actors.Tests.Shared.StockLinux.QemuReference"/>
/// sets it up) running its guest to the guest's own power-off, its serial console (stdout) kept as
/// text; killed on dispose if it still runs.
/// </summary>
internal sealed class QemuGuest : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _output;
    private readonly Task<string> _errors;
    private readonly Stopwatch _clock;
    private readonly string _who;

    private QemuGuest(Process process, string who)
    {
        _process = process;
        _who = who;
        _clock = Stopwatch.StartNew();
        // QEMU's stdin stays a closed pipe; both outputs are drained at once so a chatty guest cannot block on a full pipe.
        process.StandardInput.Close();
        _output = process.StandardOutput.ReadToEndAsync();
        _errors = process.StandardError.ReadToEndAsync();
    }

    /// <param name="who">The configuration and run, for the one line a failure ends the benchmark with.</param>
    public static QemuGuest Start(ProcessStartInfo start, string who)
    {
        try
        {
            return new QemuGuest(Process.Start(start) ?? throw new BenchUsageException($"{who}: cannot start {QemuReference.Executable}"), who);
        }
        catch (Win32Exception e)
        {
            throw new BenchUsageException($"{who}: cannot start {QemuReference.Executable}: {e.Message}");
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// The console's text and the time from the start to QEMU's exit, once the guest has powered off
    /// (QEMU exits with 0); one line naming the run when QEMU fails or the guest is not off within
    /// <paramref name="timeout"/>, after which QEMU is killed.
    /// </summary>
    public async Task<(string Console, TimeSpan Wall)> WaitForPowerOffAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new BenchUsageException($"{_who}: the guest did not power off within {timeout.TotalMinutes:F0} min");
        }

        TimeSpan wall = _clock.Elapsed;
        string console = await _output;
        if (_process.ExitCode != 0)
            throw new BenchUsageException($"{_who}: {QemuReference.Executable} exited with {_process.ExitCode}: {BenchReport.FirstLine(await _errors)}");
        return (console, wall);
    }

    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
