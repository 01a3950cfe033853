using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using static Actors.Client.Tests.HvctlEndToEndTests;

namespace Actors.Client.Tests;

/// <summary>
/// <c>--watch</c> as a user runs it: the real hvctl process prints snapshot after snapshot until it gets SIGINT
/// (Ctrl-C), and then ends with 130 like any interrupted command.
/// </summary>
[Collection(OutputCluster.Collection)]
public sealed class HvctlWatchTests(OutputCluster cluster)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Vm_list_watch_json_prints_one_document_per_line_until_interrupted()
    {
        (int exitCode, List<string> lines) = await WatchUntilAsync(
            ["vm", "list", "--watch", "--interval", "0.3", "-o", "json"], lines => lines.Count >= 2);

        Assert.Equal(130, exitCode);
        Assert.True(lines.Count >= 2);
        foreach (string line in lines)
        {
            // NDJSON: each line a whole document, the array vm list -o json prints.
            using JsonDocument snapshot = JsonDocument.Parse(line);
            Assert.Equal(["out-mv", "out-web"], snapshot.RootElement.EnumerateArray().Select(v => v.GetProperty("name").GetString()));
        }
    }

    [Fact]
    public async Task Vm_migrations_watch_prints_tables_separated_by_a_blank_line_off_a_terminal()
    {
        (int exitCode, List<string> lines) = await WatchUntilAsync(
            ["vm", "migrations", "-w", "--interval", "0.3"], lines => lines.Count(l => l.StartsWith("ID ", StringComparison.Ordinal)) >= 2);

        Assert.Equal(130, exitCode);
        int second = lines.FindIndex(1, l => l.StartsWith("ID ", StringComparison.Ordinal));
        Assert.Equal(string.Empty, lines[second - 1]);
        Assert.Matches("^out-mv-[0-9]+ +out-mv +out-a +out-b +Completed ", lines[second + 1]);
        Assert.DoesNotContain(lines, l => l.Contains('\e', StringComparison.Ordinal));
    }

    /// <summary>Runs hvctl until its output lines satisfy <paramref name="enough"/>, then sends it SIGINT; returns its exit code and every line it printed.</summary>
    private async Task<(int ExitCode, List<string> Lines)> WatchUntilAsync(string[] args, Func<List<string>, bool> enough)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoRoot() };
        foreach (string arg in (string[])[HvctlDll(), .. args, "--gateway", cluster.Gateway])
            start.ArgumentList.Add(arg);
        using Process hvctl = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var lines = new List<string>();
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        hvctl.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (lines)
            {
                lines.Add(e.Data);
                if (enough(lines)) seen.TrySetResult();
            }
        };
        hvctl.BeginOutputReadLine();
        Task<string> error = hvctl.StandardError.ReadToEndAsync();
        Task exited = hvctl.WaitForExitAsync();
        Task first = await Task.WhenAny(seen.Task, exited, Task.Delay(Limit));
        if (first != seen.Task)
        {
            if (first != exited)
                hvctl.Kill(entireProcessTree: true);
            await exited;
            string stderr = await error;
            lock (lines)
                Assert.Fail($"hvctl {string.Join(' ', args)} {(first == exited ? $"ended with {hvctl.ExitCode}" : $"ran {Limit}")} before printing enough: {string.Join('\n', lines)} / {stderr}");
        }

        Interrupt(hvctl);
        using var limit = new CancellationTokenSource(Limit);
        await hvctl.WaitForExitAsync(limit.Token);
        Assert.Equal(string.Empty, await error);
        lock (lines)
            return (hvctl.ExitCode, [.. lines]);
    }

    /// <summary>What Ctrl-C in a terminal sends.</summary>
    private static void Interrupt(Process process) => Assert.Equal(0, Kill(process.Id, SignalInterrupt));

    private const int SignalInterrupt = 2;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
