using System.Diagnostics;
using Actors.Client;

namespace Actors.Bench;

/// <summary>A real Actors.Silo process on loopback ports, as a deployment runs it; killed on dispose.</summary>
internal sealed class SiloProcess : IDisposable
{
    private readonly Process _process;

    private SiloProcess(Process process, string host, int siloPort, int gatewayPort)
    {
        _process = process;
        Host = host;
        SiloEndpoint = $"127.0.0.1:{siloPort}";
        Gateway = $"127.0.0.1:{gatewayPort}";
    }

    /// <summary>Where other silos join this one's cluster.</summary>
    public string SiloEndpoint { get; }

    public string Host { get; }

    public string Gateway { get; }

    /// <summary>
    /// Starts a silo for <paramref name="host"/>: a new cluster, or one more silo in <paramref name="join"/>'s.
    /// Its disk store is under <paramref name="diskDirectory"/> when given (ACTORS_DISK_DIR), so a
    /// benchmark's disks go with its temporary files rather than into the user's own store. With
    /// <paramref name="tls"/> it speaks mutual TLS with a certificate of that CA. <paramref name="options"/> are more
    /// of the silo's options, such as <c>--dashboard PORT</c>.
    /// </summary>
    public static SiloProcess Start(string host, SiloProcess? join = null, string? diskDirectory = null, BenchCertificates? tls = null, IEnumerable<string>? options = null)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Actors.Silo.dll");
        if (!File.Exists(dll))
            throw new BenchUsageException($"Actors.Silo.dll not found next to the benchmark ({dll}); build bench/Actors.Bench first");
        int[] ports = LoopbackPorts.Free(2);
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { dll, "--host", host, "--silo-port", ports[0].ToString(), "--gateway-port", ports[1].ToString() })
            psi.ArgumentList.Add(a);
        if (join is not null)
        {
            psi.ArgumentList.Add("--join");
            psi.ArgumentList.Add(join.SiloEndpoint);
        }
        foreach (string a in (tls?.SiloArguments(host) ?? []).Concat(options ?? []))
            psi.ArgumentList.Add(a);
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        if (diskDirectory is not null)
            psi.Environment["ACTORS_DISK_DIR"] = diskDirectory;
        // ACTORS_BENCH_SILO_LOGS=DIR keeps each silo's log (the hypervisor's own at Information) in DIR/HOST.log.
        string? logDirectory = Environment.GetEnvironmentVariable("ACTORS_BENCH_SILO_LOGS");
        StreamWriter? log = null;
        if (!string.IsNullOrEmpty(logDirectory))
        {
            psi.Environment["Logging__LogLevel__Actors"] = "Information";
            Directory.CreateDirectory(logDirectory);
            log = new StreamWriter(Path.Combine(logDirectory, host + ".log")) { AutoFlush = true };
        }
        var process = Process.Start(psi) ?? throw new BenchUsageException("could not start the silo process");
        // Drain its output so a chatty silo never blocks on a full pipe.
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new SiloProcess(process, host, ports[0], ports[1]);
    }

    /// <summary>The silo's resident set size, from /proc: what the host really pays for its partitions.</summary>
    public long ResidentBytes()
    {
        foreach (string line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim()) * 1024;
        }
        throw new InvalidOperationException("no VmRSS line in /proc status");
    }

    private static void Write(StreamWriter? log, string? line)
    {
        if (log is null || line is null)
            return;
        lock (log)
            log.WriteLine(line);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }

}
