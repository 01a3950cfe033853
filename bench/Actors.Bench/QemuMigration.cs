using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Actors.Bench;

/// <summary>
/// QEMU's own live migration of the same guest between two <c>qemu-system-x86_64 -accel tcg</c>
/// processes over loopback TCP, driven through QMP: the same downtime limit as ours, no bandwidth
/// cap, and auto-converge on (ours throttles too). QEMU reports total time, downtime and bytes.
/// </summary>
internal static class QemuMigration
{
    public sealed record Result(double TotalMilliseconds, double DowntimeMilliseconds, long TransferredBytes, string Status);

    /// <summary>QEMU's arguments for migrate-verify (<paramref name="image"/>), stamping memory until told to stop, so it dirties RAM for the whole migration.</summary>
    public static string[] MigrateVerify(string image) =>
        ["-kernel", image, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x4", "-fw_cfg", "name=opt/actors/passes,string=0"];

    /// <summary>QEMU's arguments for a Linux kernel, its initrd and its command line.</summary>
    public static string[] Linux(string kernel, string initrd, string commandLine) =>
        ["-kernel", kernel, "-initrd", initrd, "-append", commandLine];

    /// <summary>Starts the guest <paramref name="guest"/> describes, lets it run for <paramref name="runBefore"/>, and migrates it.</summary>
    public static Result Run(IReadOnlyList<string> guest, int memoryMiB, TimeSpan runBefore, TimeSpan maxDowntime)
    {
        QemuReference.EnsureAvailable();
        string dir = Directory.CreateTempSubdirectory("actors-qemu-mig").FullName;
        int port = Actors.Client.LoopbackPorts.Free(1)[0];
        string sourceQmp = Path.Combine(dir, "source.qmp"), targetQmp = Path.Combine(dir, "target.qmp");
        using var target = Start(guest, memoryMiB, targetQmp, $"tcp:127.0.0.1:{port}");
        using var source = Start(guest, memoryMiB, sourceQmp, incoming: null);
        try
        {
            using var qmp = Qmp.Connect(sourceQmp);
            Thread.Sleep(runBefore);
            qmp.Execute("migrate-set-capabilities", new JsonObject
            {
                ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "auto-converge", ["state"] = true }),
            });
            qmp.Execute("migrate-set-parameters", new JsonObject
            {
                ["downtime-limit"] = (long)maxDowntime.TotalMilliseconds,
                ["max-bandwidth"] = 100L << 30,
            });
            qmp.Execute("migrate", new JsonObject { ["uri"] = $"tcp:127.0.0.1:{port}" });
            var wait = Stopwatch.StartNew();
            while (wait.Elapsed < TimeSpan.FromMinutes(5))
            {
                JsonNode info = qmp.Execute("query-migrate", null)!;
                string status = (string?)info["status"] ?? "unknown";
                if (status is "completed" or "failed" or "cancelled")
                {
                    return new Result(
                        (double?)info["total-time"] ?? double.NaN,
                        (double?)info["downtime"] ?? double.NaN,
                        (long?)info["ram"]?["transferred"] ?? 0,
                        status);
                }
                Thread.Sleep(50);
            }
            throw new TimeoutException("QEMU's migration did not finish within 5 minutes");
        }
        finally
        {
            Kill(source);
            Kill(target);
            Directory.Delete(dir, recursive: true);
        }
    }

    private static Process Start(IReadOnlyList<string> guest, int memoryMiB, string qmpSocket, string? incoming)
    {
        var psi = new ProcessStartInfo("qemu-system-x86_64")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        var args = new List<string>
        {
            "-accel", "tcg", "-display", "none", "-no-reboot", "-nodefaults", "-m", $"{memoryMiB}M",
            "-serial", "null", "-qmp", $"unix:{qmpSocket},server=on,wait=off",
        };
        args.AddRange(guest);
        if (incoming is not null)
        {
            args.Add("-incoming");
            args.Add(incoming);
        }
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new BenchUsageException("could not start qemu-system-x86_64");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Kill(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
    }

    /// <summary>A minimal QMP client: greeting, qmp_capabilities, then one command at a time, skipping events.</summary>
    private sealed class Qmp : IDisposable
    {
        private readonly Socket _socket;
        private readonly StreamReader _reader;
        private readonly StreamWriter _writer;

        private Qmp(Socket socket)
        {
            _socket = socket;
            var stream = new NetworkStream(socket, ownsSocket: false);
            _reader = new StreamReader(stream, Encoding.UTF8);
            _writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
        }

        public static Qmp Connect(string path)
        {
            var wait = Stopwatch.StartNew();
            while (true)
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    socket.Connect(new UnixDomainSocketEndPoint(path));
                    var qmp = new Qmp(socket);
                    qmp.ReadMessage(); // greeting
                    qmp.Execute("qmp_capabilities", null);
                    return qmp;
                }
                catch (SocketException) when (wait.Elapsed < TimeSpan.FromSeconds(10))
                {
                    socket.Dispose();
                    Thread.Sleep(50);
                }
            }
        }

        public JsonNode? Execute(string command, JsonObject? arguments)
        {
            var request = new JsonObject { ["execute"] = command };
            if (arguments is not null)
                request["arguments"] = arguments;
            _writer.WriteLine(request.ToJsonString());
            while (true)
            {
                JsonNode message = ReadMessage();
                if (message["event"] is not null)
                    continue;
                if (message["error"] is { } error)
                    throw new InvalidOperationException($"QMP {command}: {error["desc"]}");
                return message["return"];
            }
        }

        private JsonNode ReadMessage()
        {
            string line = _reader.ReadLine() ?? throw new IOException("QMP connection closed");
            return JsonNode.Parse(line) ?? throw new IOException("empty QMP message");
        }

        public void Dispose()
        {
            _reader.Dispose();
            _writer.Dispose();
            _socket.Dispose();
        }
    }
}
