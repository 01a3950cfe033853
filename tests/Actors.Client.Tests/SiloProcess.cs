using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Actors.Client.Tests;

/// <summary>
/// A real <c>Actors.Silo</c> process, started from the test's build output with the arguments and environment
/// a test gives it (nothing else of the silo's own settings is inherited from the test run), and killed on
/// dispose. It keeps the last lines the silo printed, to say why it died.
/// </summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private const int KeptLines = 40;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private SiloProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    /// <summary>What the silo printed last, for failure messages.</summary>
    public string Tail => string.Join('\n', _lines);

    public static SiloProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        ProcessStartInfo start = StartInfo(args, environment);
        return new SiloProcess(Process.Start(start) ?? throw new InvalidOperationException("the silo did not start"));
    }

    /// <summary>Runs a silo that is expected to refuse its settings, and returns its exit code and standard error.</summary>
    public static Task<(int ExitCode, string Error)> RunToExitAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        RunToExitAsync(StartInfo(args, environment ?? new Dictionary<string, string>()));

    /// <summary>The same for a silo started as <paramref name="start"/> says.</summary>
    public static async Task<(int ExitCode, string Error)> RunToExitAsync(ProcessStartInfo start)
    {
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("the silo did not start");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the silo was expected to refuse its settings and exit, but ran on: {await output}");
        }

        await output;
        return (process.ExitCode, await error);
    }

    /// <summary>Polls <paramref name="url"/> until it answers 200 (the body is returned), failing after a minute or if the silo dies.</summary>
    public async Task<string> WaitForOkAsync(Uri url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        string last = "no answer yet";
        while (true)
        {
            Assert.False(_process.HasExited, $"the silo exited with {(_process.HasExited ? _process.ExitCode : 0)} before {url} answered 200; it printed:\n{Tail}");
            try
            {
                using HttpResponseMessage response = await http.GetAsync(url);
                string body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == HttpStatusCode.OK)
                    return body;
                last = $"{(int)response.StatusCode} {body.Trim()}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException)
            {
                last = "no answer within 5 s";
            }

            Assert.True(DateTime.UtcNow < deadline, $"{url} never answered 200; last: {last}; the silo printed:\n{Tail}");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = HvctlEndToEndTests.RepoRoot(),
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Actors.Silo.dll"));
        foreach (string arg in args)
            start.ArgumentList.Add(arg);

        // The silo reads ACTORS_* (and, on Kubernetes, POD_*) settings from its environment: the test's own must not leak in.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("ACTORS_", StringComparison.Ordinal) || k.StartsWith("POD_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach ((string name, string value) in environment)
            start.Environment[name] = value;
        return start;
    }

    private void Keep(string? line)
    {
        if (line is null)
            return;
        _lines.Enqueue(line);
        while (_lines.Count > KeptLines)
            _lines.TryDequeue(out _);
    }
}
