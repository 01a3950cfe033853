using System.ComponentModel;
using System.Diagnostics;

namespace Actors.Bench;

/// <summary>
/// Runs an image under <c>qemu-system-x86_64 -accel tcg -kernel</c> with the same platform our
/// guests expect (COM1 on stdio, isa-debug-exit at 0xF4), so exit codes and speed can be compared
/// side by side in one run.
/// </summary>
internal static class QemuReference
{
    public const string Executable = "qemu-system-x86_64";

    private const string DefaultRemedy = "install QEMU (qemu-system-x86) or drop --vs-qemu";

    /// <summary>Fails before anything runs when QEMU is not installed, rather than after our run.</summary>
    /// <param name="remedy">What the user can do about it, for the benchmark at hand.</param>
    public static void EnsureAvailable(string remedy = DefaultRemedy)
    {
        string[] directories = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        if (!directories.Any(d => File.Exists(Path.Combine(d, Executable))))
            throw new BenchUsageException($"{Executable} not found on PATH; {remedy}");
    }

    public static QemuRun Run(string imagePath, ulong memoryBytes, TimeSpan? timeout, string remedy = DefaultRemedy)
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[]
        {
            "-accel", "tcg", "-display", "none", "-no-reboot", "-nodefaults",
            "-kernel", imagePath, "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x4",
            // Same RAM as our machine, so a guest that sizes itself from the memory map does the same work.
            "-m", $"{(memoryBytes + (1UL << 20) - 1) >> 20}M",
        })
        {
            start.ArgumentList.Add(arg);
        }

        var stopwatch = Stopwatch.StartNew();
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new BenchUsageException($"{Executable} did not start");
        }
        catch (Win32Exception)
        {
            throw new BenchUsageException($"{Executable} not found on PATH; {remedy}");
        }
        using (process)
        {
            // QEMU's stdin stays a closed pipe so -serial stdio never touches our terminal;
            // both outputs are drained concurrently so a chatty guest cannot block on a full pipe.
            process.StandardInput.Close();
            var output = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
            var errors = process.StandardError.ReadToEndAsync();
            int waitMs = timeout is { } t ? (int)Math.Min(t.TotalMilliseconds, int.MaxValue) : Timeout.Infinite;
            if (!process.WaitForExit(waitMs))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                throw new BenchUsageException($"{Executable} did not finish within the {timeout!.Value.TotalSeconds:0.###} s timeout");
            }
            process.WaitForExit();
            stopwatch.Stop();
            output.Wait();
            string stderr = errors.Result.Trim();
            if (process.ExitCode == 1 && IsQemuError(stderr))
                throw new BenchUsageException($"{Executable} failed: {FirstLine(stderr)}");
            return new QemuRun(process.ExitCode, stopwatch.Elapsed);
        }
    }

    // QEMU's own failures exit with 1, but so does a guest writing 0 to isa-debug-exit (the
    // usual PASS). QEMU prefixes its error messages with its name; guests' output goes to stdout.
    private static bool IsQemuError(string stderr) => stderr.StartsWith(Executable, StringComparison.Ordinal) || stderr.Contains($"{Executable}:", StringComparison.Ordinal);

    private static string FirstLine(string text)
    {
        int newline = text.IndexOf('\n');
        return newline < 0 ? text : text[..newline];
    }
}
