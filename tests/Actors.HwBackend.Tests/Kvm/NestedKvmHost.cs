using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Actors.Tests.Shared;

namespace Actors.HwBackend.Tests.Kvm;

/// <summary>
/// Runs a .NET program where KVM is: directly when this host has a usable <c>/dev/kvm</c>, otherwise inside a
/// Linux guest of QEMU TCG with <c>-cpu max</c>, whose emulated AMD SVM gives that guest a nested
/// <c>/dev/kvm</c> (guest-abi.md §8). The guest is Debian's cloud kernel with its own kvm and kvm-amd modules
/// and an initramfs holding busybox, this host's .NET runtime with the C libraries it links, the program, and
/// whatever files it needs; its output comes back over the serial console.
/// </summary>
internal static partial class NestedKvmHost
{
    private const int RegularFile = 0x81A4, Executable = 0x81ED, Directory_ = 0x41ED;
    // About two minutes on an idle two-core machine; several times that when the machine is busy.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(25);

    /// <summary>How long a nested run may print nothing before it counts as hung.</summary>
    private static readonly TimeSpan StallTimeout = TimeSpan.FromMinutes(6);

    /// <summary>True when this host's own /dev/kvm opens, so nothing needs nesting.</summary>
    public static bool HostHasKvm
    {
        get
        {
            try
            {
                using var device = new FileStream("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="programDirectory"/>'s <paramref name="assembly"/> with <paramref name="arguments"/>
    /// and returns what it printed. <paramref name="files"/> (host directory → guest directory) are copied in
    /// when the run is nested; arguments name files by their guest paths then, so give host paths in
    /// <paramref name="directArguments"/> for a direct run.
    /// </summary>
    public static async Task<string> RunAsync(
        string programDirectory, string assembly, string[] arguments, string[] directArguments, IReadOnlyDictionary<string, string> files)
    {
        if (HostHasKvm)
            return await RunDirectlyAsync(Path.Combine(programDirectory, assembly), directArguments);

        var archive = new InitramfsTree();
        archive.AddFile("init", Encoding.UTF8.GetBytes(InitScript($"/app/{assembly}", arguments)), Executable);
        foreach (string module in new[] { "irqbypass.ko", "kvm.ko", "kvm-amd.ko" })
        {
            string path = Directory.EnumerateFiles(StockLinux.ModulesRoot, module, SearchOption.AllDirectories).Single();
            archive.AddFile($"modules/{module}", File.ReadAllBytes(path), RegularFile);
        }

        AddRuntime(archive);
        archive.AddDirectory(programDirectory, "app");
        foreach ((string host, string guest) in files)
            archive.AddDirectory(host, guest);

        string initrd = StockLinux.InitrdFile([.. StockLinux.BusyboxArchive(), .. archive.ToArchive()]);
        try
        {
            return await RunQemuAsync(initrd);
        }
        finally
        {
            File.Delete(initrd);
        }
    }

    private static string InitScript(string program, string[] arguments) => $"""
        #!/bin/busybox sh
        /bin/busybox mount -t proc proc /proc
        /bin/busybox mount -t sysfs sys /sys
        /bin/busybox mount -t devtmpfs dev /dev
        for m in irqbypass kvm kvm-amd; do /bin/busybox insmod /modules/$m.ko || echo "NESTED insmod $m failed"; done
        [ -c /dev/kvm ] || echo "NESTED no /dev/kvm: this QEMU offers no nested SVM"
        DOTNET_CLI_TELEMETRY_OPTOUT=1 /dotnet/dotnet {program} {string.Join(' ', arguments)}
        echo "NESTED exit $?"
        /bin/busybox poweroff -f
        """;

    /// <summary>This process's .NET runtime (host, hostfxr, the shared framework) and every C library it links.</summary>
    private static void AddRuntime(InitramfsTree archive)
    {
        string framework = RuntimeEnvironment.GetRuntimeDirectory().TrimEnd('/');
        string dotnetRoot = Path.GetFullPath(Path.Combine(framework, "..", "..", ".."));
        string frameworkGuest = $"dotnet/shared/Microsoft.NETCore.App/{Path.GetFileName(framework)}";
        archive.AddFile("dotnet/dotnet", File.ReadAllBytes(Path.Combine(dotnetRoot, "dotnet")), Executable);
        archive.AddDirectory(Path.Combine(dotnetRoot, "host"), "dotnet/host");
        archive.AddDirectory(framework, frameworkGuest);

        IEnumerable<string> binaries = Directory.EnumerateFiles(framework, "*.so").Append(Path.Combine(dotnetRoot, "dotnet"));
        string[] libraries = [.. binaries.SelectMany(LinkedLibraries).Distinct(StringComparer.Ordinal)];
        foreach (string library in libraries)
            archive.AddFile(library.TrimStart('/'), File.ReadAllBytes(library), Executable);

        // OpenSSL, which the runtime's crypto shim opens only when it is first used (ldd does not list it), beside the
        // C library: a virtual disk's SCSI identity is a SHA-256 of its serial (InquiryData).
        string libraryDirectory = Path.GetDirectoryName(libraries.First(l => Path.GetFileName(l).StartsWith("libc.so", StringComparison.Ordinal)))!;
        foreach (string name in new[] { "libssl.so.3", "libcrypto.so.3" })
        {
            if (new[] { libraryDirectory, "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu" }.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists) is { } openSsl)
                archive.AddFile(Path.Combine(libraryDirectory, name).TrimStart('/'), File.ReadAllBytes(openSsl), Executable);
        }
    }

    /// <summary>The libraries (and the loader) that <c>ldd</c> says <paramref name="binary"/> loads, as absolute paths.</summary>
    private static IEnumerable<string> LinkedLibraries(string binary)
    {
        using var ldd = Process.Start(new ProcessStartInfo("ldd", [binary]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = ldd.StandardOutput.ReadToEnd();
        ldd.WaitForExit();
        foreach (Match m in LddPath().Matches(output))
            yield return m.Groups[1].Value;
    }

    [GeneratedRegex(@"(?:=>\s*|^\s*)(/\S+)\s+\(0x", RegexOptions.Multiline)]
    private static partial Regex LddPath();

    private static async Task<string> RunQemuAsync(string initrd)
    {
        var start = new ProcessStartInfo("qemu-system-x86_64") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string arg in new[]
        {
            "-accel", "tcg", "-cpu", "max", "-m", "1536M", "-smp", "2", "-display", "none", "-nodefaults", "-no-reboot",
            "-serial", "stdio", "-kernel", StockLinux.KernelPath, "-initrd", initrd, "-append", "console=ttyS0 panic=-1 loglevel=4",
        })
        {
            start.ArgumentList.Add(arg);
        }

        return await RunToEndAsync(start, "qemu-system-x86_64 (the nested KVM host)");
    }

    private static Task<string> RunDirectlyAsync(string program, string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(program);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        return RunToEndAsync(start, program);
    }

    private static async Task<string> RunToEndAsync(ProcessStartInfo start, string what)
    {
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {what}");
        var printed = new StringBuilder();
        long lastOutput = Stopwatch.GetTimestamp();
        Task reading = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = await process.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (printed)
                    printed.Append(buffer, 0, n);
                Interlocked.Exchange(ref lastOutput, Stopwatch.GetTimestamp());
            }
        });
        Task<string> errors = process.StandardError.ReadToEndAsync();
        var total = Stopwatch.StartNew();
        while (!process.WaitForExit(TimeSpan.FromSeconds(5)))
        {
            // A nested host that prints nothing for this long has hung (seen under QEMU TCG's nested SVM, never
            // on a check that was merely slow: the slowest prints within a minute here); its output so far goes
            // back without the runner's last line, which is what a host that died looks like.
            if (Stopwatch.GetElapsedTime(Interlocked.Read(ref lastOutput)) > StallTimeout)
            {
                process.Kill(entireProcessTree: true);
                await reading;
                lock (printed)
                    return $"{printed}\nHOST {what} printed nothing for {StallTimeout.TotalMinutes:0} minutes and was stopped\n";
            }

            if (total.Elapsed > Timeout)
            {
                process.Kill(entireProcessTree: true);
                await reading;
                lock (printed)
                    throw new TimeoutException($"{what} did not finish within {Timeout.TotalMinutes:0} minutes; it printed: {printed}");
            }
        }

        await reading;
        string errorText = await errors;
        string all;
        lock (printed)
            all = printed + errorText;
        // A host that dies (QEMU killed by a signal, the nested kernel's panic) ends without the program's last line.
        return process.ExitCode == 0 ? all : $"{all}\nHOST {what} exited with status {process.ExitCode}\n";
    }

    /// <summary>A newc archive of a directory tree: every parent directory gets an entry before what is in it.</summary>
    private sealed class InitramfsTree
    {
        private readonly List<(string Name, byte[] Data, int Mode)> _entries = [];
        private readonly HashSet<string> _directories = new(StringComparer.Ordinal);

        public void AddFile(string path, byte[] data, int mode)
        {
            AddParents(path);
            _entries.Add((path, data, mode));
        }

        /// <summary>Copies every file under <paramref name="host"/> to <paramref name="guest"/>, keeping each file's mode.</summary>
        public void AddDirectory(string host, string guest)
        {
            foreach (string file in Directory.EnumerateFiles(host, "*", SearchOption.AllDirectories))
            {
                bool executable = !OperatingSystem.IsWindows() && (File.GetUnixFileMode(file) & UnixFileMode.UserExecute) != 0;
                AddFile($"{guest}/{Path.GetRelativePath(host, file)}", File.ReadAllBytes(file), executable ? Executable : RegularFile);
            }
        }

        public byte[] ToArchive() => StockLinux.NewcArchive([.. _entries]);

        private void AddParents(string path)
        {
            string? parent = Path.GetDirectoryName(path);
            if (string.IsNullOrEmpty(parent) || !_directories.Add(parent))
                return;
            AddParents(parent);
            _entries.Add((parent, [], Directory_));
        }
    }
}
