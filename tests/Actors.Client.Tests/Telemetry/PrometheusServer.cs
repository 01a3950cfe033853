using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Actors.Client.Tests.Telemetry;

/// <summary>
/// A real Prometheus server (Debian's <c>prometheus</c> package) on a free loopback port, scraping the given
/// targets every second, its storage in a temporary directory. Killed, and its storage removed, on dispose.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private const string Binary = "/usr/bin/prometheus";

    private readonly Process _process;
    private readonly string _directory;
    private readonly HttpClient _http;

    private PrometheusServer(Process process, string directory, Uri address)
    {
        _process = process;
        _directory = directory;
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>Starts Prometheus scraping <c>/metrics</c> of each <c>127.0.0.1:port</c> in <paramref name="targets"/>, and waits until it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(IEnumerable<int> targets)
    {
        Assert.True(File.Exists(Binary), $"{Binary} is missing: install Debian's prometheus package (apt-get install prometheus)");
        string directory = Directory.CreateTempSubdirectory("actors-prometheus-").FullName;
        string config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: actors
                metrics_path: /metrics
                static_configs:
                  - targets: [{string.Join(", ", targets.Select(p => $"'127.0.0.1:{p.ToString(CultureInfo.InvariantCulture)}'"))}]
            """);
        int port = LoopbackPorts.Free(1)[0];
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        foreach (string arg in new[] { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory, "data")}", $"--web.listen-address=127.0.0.1:{port}" })
            start.ArgumentList.Add(arg);
        Process process = Process.Start(start) ?? throw new InvalidOperationException("prometheus did not start");
        var server = new PrometheusServer(process, directory, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilReadyAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>What Prometheus logged last (it logs to standard error), for failure messages.</summary>
    public string Log { get; private set; } = string.Empty;

    /// <summary>An instant query through the HTTP API: each series' labels and value.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        using HttpResponseMessage response = await _http.GetAsync($"api/v1/query?query={Uri.EscapeDataString(promql)}");
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"query {promql}: {(int)response.StatusCode} {body}");
        using JsonDocument answer = JsonDocument.Parse(body);
        return [.. answer.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().Select(series => (
            (IReadOnlyDictionary<string, string>)series.GetProperty("metric").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString() ?? string.Empty),
            double.Parse(series.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))];
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task WaitUntilReadyAsync()
    {
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            Assert.False(_process.HasExited, $"prometheus exited with {(_process.HasExited ? _process.ExitCode : 0)}: {Log}");
            try
            {
                using HttpResponseMessage ready = await _http.GetAsync("-/ready");
                if (ready.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            Assert.True(DateTime.UtcNow < deadline, $"prometheus was not ready within 30 s: {Log}");
            await Task.Delay(100);
        }
    }

    private void Keep(string? line)
    {
        if (line is not null)
            Log = line;
    }
}
