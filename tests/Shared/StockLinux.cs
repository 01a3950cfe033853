using System.Diagnostics;
using System.Text;

namespace Actors.Tests.Shared;

/// <summary>
/// The stock Linux guest of <c>guests/linux</c>: Debian's cloud kernel and busybox, downloaded and
/// packed once per machine by its Makefile (serialised with flock, as the other guests are), and
/// initrds made of that busybox archive plus a per-test <c>/init</c> appended as a second archive.
/// </summary>
public static class StockLinux
{
    /// <summary>The command line both Actors and QEMU boot with: nothing that turns off the APIC, the TSC or ACPI.</summary>
    public const string CommandLine = "console=ttyS0 panic=-1";

    /// <summary>The modules of the synthetic SCSI controller and its disks, in the order they load.</summary>
    public static readonly string[] StorageModules = ["hv_vmbus.ko", "scsi_common.ko", "scsi_mod.ko", "scsi_transport_fc.ko", "hv_storvsc.ko", "sd_mod.ko"];

    /// <summary>The modules of the synthetic network adapter, in the order they load.</summary>
    public static readonly string[] NetworkModules = ["hv_vmbus.ko", "hv_netvsc.ko"];

    /// <summary>
    /// The start of an /init for a VM with a SCSI controller: busybox's applets, /proc, /sys and /dev, and
    /// <see cref="StorageModules"/> loaded (the last line, so a script may go on with " &amp;&amp; ...").
    /// </summary>
    public static readonly string StorageInit = InitWithModules(StorageModules);

    /// <summary>
    /// The start of an /init for a VM with a synthetic network adapter: busybox's applets, /proc,
    /// /sys and /dev, <see cref="NetworkModules"/> loaded, and eth0 up at <paramref name="address"/>/24,
    /// which it prints as "eth0: up MAC".
    /// </summary>
    public static string NetworkInit(string address) => $$"""
        {{InitWithModules(NetworkModules)}}
        i=0
        while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done
        ip addr add {{address}}/24 dev eth0 && ip link set eth0 up && echo "eth0: up $(cat /sys/class/net/eth0/address)"
        """;

    private static string InitWithModules(string[] modules) => $$"""
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        {{string.Join(" && ", modules.Select(m => $"insmod /{m}"))}}
        """;

    private static readonly Lazy<string> Build = new(Fetch);

    public static string KernelPath => Path.Combine(Build.Value, "vmlinuz");

    /// <summary>The unpacked kernel package's lib/modules, where the kernel's own modules are.</summary>
    public static string ModulesRoot => Path.Combine(Build.Value, "root", "lib", "modules");

    /// <summary>Busybox's archive (/bin/busybox and the mount points), gzip-compressed, to put archives of your own after.</summary>
    public static byte[] BusyboxArchive() => File.ReadAllBytes(Path.Combine(Build.Value, "busybox.cpio.gz"));

    public static byte[] Kernel() => File.ReadAllBytes(KernelPath);

    /// <summary>Busybox's archive followed by one holding <paramref name="initScript"/> as an executable /init.</summary>
    public static byte[] Initrd(string initScript)
    {
        byte[] busybox = File.ReadAllBytes(Path.Combine(Build.Value, "busybox.cpio.gz"));
        return [.. busybox, .. NewcArchive(("init", Encoding.UTF8.GetBytes(initScript), Executable))];
    }

    /// <summary>
    /// Like <see cref="Initrd(string)"/>, with the kernel's own modules <paramref name="modules"/>
    /// (file names such as "hv_vmbus.ko", found under the kernel package's lib/modules) at /NAME:
    /// the kernel unpacks an archive's files without making their directories, and the root exists.
    /// </summary>
    public static byte[] InitrdWithModules(string initScript, params string[] modules)
    {
        string modulesRoot = ModulesRoot;
        var files = new List<(string, byte[], int)> { ("init", Encoding.UTF8.GetBytes(initScript), Executable) };
        foreach (string module in modules)
        {
            string path = Directory.EnumerateFiles(modulesRoot, module, SearchOption.AllDirectories).SingleOrDefault()
                ?? throw new FileNotFoundException($"the kernel package has no module {module} under {modulesRoot}");
            files.Add((module, File.ReadAllBytes(path), 0x81A4)); // regular file, rw-r--r--
        }
        byte[] busybox = File.ReadAllBytes(Path.Combine(Build.Value, "busybox.cpio.gz"));
        return [.. busybox, .. NewcArchive([.. files])];
    }

    /// <summary>
    /// Like <see cref="InitrdWithModules"/>, with Debian's Hyper-V daemons too (hv_kvp_daemon at
    /// /usr/sbin, with the glibc it links; guests/linux builds the archive).
    /// </summary>
    public static byte[] InitrdWithDaemons(string initScript, params string[] modules) =>
        [.. InitrdWithModules(initScript, modules), .. File.ReadAllBytes(Path.Combine(Build.Value, "hv-daemons.cpio"))];

    /// <summary>Writes <paramref name="initrd"/> to a file for QEMU's -initrd and returns its path.</summary>
    public static string InitrdFile(byte[] initrd)
    {
        string path = Path.Combine(Path.GetTempPath(), $"actors-initrd-{Guid.NewGuid():N}");
        File.WriteAllBytes(path, initrd);
        return path;
    }

    /// <summary>
    /// <c>qemu-system-x86_64</c> set up as the reference: TCG, serial on stdio, no other devices, no
    /// reboot (a reset ends QEMU as it ends our VM), the same kernel, initrd and command line.
    /// </summary>
    public static ProcessStartInfo QemuReference(string kernelPath, string? initrdPath, string commandLine, ulong memoryBytes, int processors)
    {
        var start = new ProcessStartInfo("qemu-system-x86_64") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string arg in new[] { "-accel", "tcg", "-display", "none", "-nodefaults", "-no-reboot", "-serial", "stdio", "-m", $"{memoryBytes >> 20}M", "-smp", processors.ToString(System.Globalization.CultureInfo.InvariantCulture), "-kernel", kernelPath, "-append", commandLine })
            start.ArgumentList.Add(arg);
        if (initrdPath is not null)
        {
            start.ArgumentList.Add("-initrd");
            start.ArgumentList.Add(initrdPath);
        }

        return start;
    }

    /// <summary>The lines of a serial log that the guest's userland wrote: the kernel's own lines start with a timestamp.</summary>
    public static IEnumerable<string> UserLines(string serial) =>
        serial.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Where(l => l.Length > 0 && !l.StartsWith('['));

    private const int Executable = 0x81ED; // regular file, rwxr-xr-x

    /// <summary>A newc ("070701") cpio archive of regular files (name, contents, mode), ending in the trailer entry.</summary>
    public static byte[] NewcArchive(params (string Name, byte[] Data, int Mode)[] files)
    {
        var output = new MemoryStream();
        int inode = 1;
        foreach ((string name, byte[] data, int mode) in files.Append(("TRAILER!!!", [], 0)))
        {
            string header = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"070701{inode++:X8}{mode:X8}{0:X8}{0:X8}{1:X8}{0:X8}{data.Length:X8}{0:X8}{0:X8}{0:X8}{0:X8}{name.Length + 1:X8}{0:X8}");
            output.Write(Encoding.ASCII.GetBytes(header));
            output.Write(Encoding.ASCII.GetBytes(name + "\0"));
            PadTo4(output);
            output.Write(data);
            PadTo4(output);
        }

        return output.ToArray();

        static void PadTo4(MemoryStream stream)
        {
            while (stream.Length % 4 != 0)
                stream.WriteByte(0);
        }
    }

    private static string Fetch()
    {
        string root = RepositoryRoot();
        var make = new ProcessStartInfo("flock", [Path.Combine(root, "guests", ".make.lock"), "make", "-s", "-C", Path.Combine(root, "guests", "linux")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using Process process = Process.Start(make) ?? throw new InvalidOperationException("cannot start make");
        string error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"make -C guests/linux failed ({process.ExitCode}): {error.Trim()}");
        return Path.Combine(root, "guests", "build", "linux");
    }

    public static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "guests", "linux", "Makefile")))
                return dir.FullName;
        }

        throw new InvalidOperationException($"no guests/linux/Makefile above {AppContext.BaseDirectory}");
    }
}
