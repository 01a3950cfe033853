using System.Globalization;
using Actors.HwBackend.Emulation.Tiers;

namespace Actors.Bench;

/// <summary>Parses <c>actors-bench COMMAND ...</c> and dispatches to the benchmark.</summary>
internal static class BenchCommandLine
{
    public const string Usage = "usage: Actors.Bench guest IMAGE [--memory 64M] [--console] [--vs-qemu] [--timeout SECONDS] [--cpu-tier interpreter|translator|both] [--threshold N] | cluster [--starts N] [--idle N] [--flood-bytes N] [--flood-runs N] [--tls] | interrupts [--samples N] [--timer-hz N] [--seconds N] | linux [--kernel F [--initrd F]] [--append S] [--vcpus N] [--memory 256M] [--runs N] [--console] [--vs-qemu] [--hyperv] [--profile FILE] [--cpu-tier interpreter|translator|both] [--threshold N] | migrate [--memory-mib N] [--max-downtime-ms N] [--runs N] [--qemu-runs N] [--tls | --linux [--vcpus N]] | hypercalls [--runs N] [--loop-seconds N] [--vms N] [--vsp-samples N] [--cpu-tier interpreter|translator] | vmbus-fuzz [--seconds N] [--seed N] | disk [--size-mib N] [--runs N] [--random-ios N] [--remote] | network [--transfer-mib N] [--pings N] [--runs N] [--memory 256M] [--timeout SECONDS] | dashboard [--changes N]";

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
            throw new BenchUsageException(Usage);
        return args[0] switch
        {
            "guest" => GuestBenchmark.Run(ParseGuest(args.AsSpan(1))),
            "cluster" => ClusterBenchmark.Run(ParseCluster(args.AsSpan(1))),
            "interrupts" => InterruptBenchmark.Run(ParseInterrupts(args.AsSpan(1))),
            "linux" => LinuxBenchmark.Run(ParseLinux(args.AsSpan(1))),
            "migrate" => MigrationBenchmark.RunAsync(ParseMigrate(args.AsSpan(1))).GetAwaiter().GetResult(),
            "hypercalls" => HypercallBenchmark.Run(ParseHypercalls(args.AsSpan(1))),
            "vmbus-fuzz" => VmBusFuzz.Run(ParseVmBusFuzz(args.AsSpan(1))),
            "disk" => DiskBenchmark.Run(ParseDisk(args.AsSpan(1))),
            "network" => NetworkBenchmark.Run(ParseNetwork(args.AsSpan(1))),
            "dashboard" => DashboardBenchmark.RunAsync(ParseDashboard(args.AsSpan(1))).GetAwaiter().GetResult(),
            _ => throw new BenchUsageException($"unknown command '{args[0]}'; {Usage}"),
        };
    }

    private static ClusterBenchmarkOptions ParseCluster(ReadOnlySpan<string> args)
    {
        var options = new ClusterBenchmarkOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg == "--tls")
            {
                options = options with { Tls = true };
                continue;
            }

            int value = PositiveInt(NextValue(args, ref i, arg), arg);
            options = arg switch
            {
                "--starts" => options with { Starts = value },
                "--idle" => options with { IdlePartitions = value },
                "--flood-bytes" => options with { FloodBytes = value },
                "--flood-runs" => options with { FloodRuns = value },
                _ => throw new BenchUsageException($"unknown option '{arg}'; {Usage}"),
            };
        }
        return options;
    }

    private static LinuxBenchmarkOptions ParseLinux(ReadOnlySpan<string> args)
    {
        var options = new LinuxBenchmarkOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            options = arg switch
            {
                "--console" => options with { Console = true },
                "--vs-qemu" => options with { VersusQemu = true },
                "--hyperv" => options with { Enlightened = true },
                "--kernel" => options with { Kernel = NextValue(args, ref i, arg) },
                "--initrd" => options with { Initrd = NextValue(args, ref i, arg) },
                "--append" => options with { Append = NextValue(args, ref i, arg) },
                "--vcpus" => options with { Processors = PositiveInt(NextValue(args, ref i, arg), arg) },
                "--memory" => options with { MemoryBytes = ParseMemorySize(NextValue(args, ref i, arg)) },
                "--runs" => options with { Runs = PositiveInt(NextValue(args, ref i, arg), arg) },
                "--profile" => options with { ProfilePath = NextValue(args, ref i, arg) },
                "--cpu-tier" => options with { Tiers = ParseTiers(NextValue(args, ref i, arg)) },
                "--threshold" => options with { Threshold = PositiveInt(NextValue(args, ref i, arg), arg) },
                _ => throw new BenchUsageException($"unknown option '{arg}'; {Usage}"),
            };
        }

        if (options.Kernel is null && options.Initrd is not null)
            throw new BenchUsageException($"--initrd goes with --kernel; {Usage}");
        return options;
    }

    private static MigrationBenchmarkOptions ParseMigrate(ReadOnlySpan<string> args)
    {
        var options = new MigrationBenchmarkOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg is "--tls" or "--linux")
            {
                options = arg == "--tls" ? options with { Tls = true } : options with { Linux = true };
                continue;
            }

            string text = NextValue(args, ref i, arg);
            options = arg switch
            {
                "--memory-mib" => options with { MemoryMiB = PositiveInt(text, arg) },
                "--max-downtime-ms" => options with { MaxDowntimeMilliseconds = PositiveInt(text, arg) },
                "--runs" => options with { Runs = PositiveInt(text, arg) },
                "--qemu-runs" => options with { QemuRuns = text == "0" ? 0 : PositiveInt(text, arg) },
                "--vcpus" => options with { Processors = PositiveInt(text, arg) },
                _ => throw new BenchUsageException($"unknown option '{arg}'; {Usage}"),
            };
        }
        return options;
    }

    private static HypercallBenchmarkOptions ParseHypercalls(ReadOnlySpan<string> args)
    {
        var options = new HypercallBenchmarkOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string text = NextValue(args, ref i, arg);
            options = arg switch
            {
                "--runs" => options with { Runs = PositiveInt(text, arg) },
                "--loop-seconds" => options with { LoopSeconds = PositiveInt(text, arg) },
                "--cpu-tier" => options with { Tier = CpuTierOptions.TryParseTier(text, out CpuTier tier) ? tier : throw new BenchUsageException($"--cpu-tier must be interpreter or translator, not '{text}'") },
                // The first VM of each configuration is not counted, so a figure needs two; 0 skips it.
                "--vms" => options with { LinuxVms = text == "0" ? 0 : PositiveInt(text, arg) is >= 2 and int vms ? vms : throw new BenchUsageException("--vms must be 0 (no memory figure) or at least 2") },
                // The heartbeat's median covers its last 15 round trips, so more cannot be asked for.
                "--vsp-samples" => options with { VspSamples = text == "0" ? 0 : PositiveInt(text, arg) is <= HypercallBenchmarkOptions.HeartbeatSamples and int n ? n : throw new BenchUsageException($"--vsp-samples must be 0 (no VSP figure) to {HypercallBenchmarkOptions.HeartbeatSamples}") },
                _ => throw new BenchUsageException($"unknown option '{arg}'; {Usage}"),
            };
        }
        return options;
    }

    private static VmBusFuzzOptions ParseVmBusFuzz(ReadOnlySpan<string> args)
    {
        var options = new VmBusFuzzOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string text = NextValue(args, ref i, arg);
            options = arg switch
            {
                "--seconds" => options with { Seconds = PositiveInt(text, arg) },
                "--seed" => options with { Seed = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int seed) ? seed : throw new BenchUsageException($"--seed '{text}' is not a whole number") },
                _ => throw new BenchUsageException($"unknown option '{arg}'; {Usage}"),
            };
        }
        return options;
    }

    private static DiskBenchmarkOptions ParseDisk(ReadOnlySpan<string> args)
    {
        var options = new DiskBenchmarkOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            options = arg switch
            {
                "--remote" => options with { Remote = true },
                "--size-mib" => options with { SizeMiB = PositiveInt(NextValue(args, ref i, arg), arg) is <= DiskBenchmarkOptions.MaxSizeMiB and int mib ? mib : throw new BenchUsageException($"--size-mib must be 1 to {DiskBenchmarkOptions.MaxSizeMiB}: the guest holds what it writes in its 256 MiB") },
                "--runs" => options with { Runs = PositiveInt(NextValue(args, ref i, arg), arg) },
                "--random-ios" => options with { RandomIos = PositiveInt(NextValue(args, ref i, arg), arg) },
                _ => throw new BenchUsageException($"unknown option '{arg}'; {Usage}"),
            };
        }
        return options;
    }

    private static NetworkBenchmarkOptions ParseNetwork(ReadOnlySpan<string> args)
    {
        var options = new NetworkBenchmarkOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string text = NextValue(args, ref i, arg);
            options = arg switch
            {
                "--transfer-mib" => options with { TransferMiB = PositiveInt(text, arg) },
                "--pings" => options with { Pings = PositiveInt(text, arg) },
                "--runs" => options with { Runs = PositiveInt(text, arg) },
                "--memory" => options with { MemoryBytes = ParseMemorySize(text) },
                // A day at most: the timers that wait for the guests take no more.
                "--timeout" => options with { Timeout = Seconds(text, arg) is { TotalDays: <= 1 } timeout ? timeout : throw new BenchUsageException($"--timeout '{text}' is more than a day (86400 seconds)") },
                _ => throw new BenchUsageException($"unknown option '{arg}'; {Usage}"),
            };
        }

        if ((ulong)options.TransferMiB << 20 > options.MemoryBytes / 2)
            throw new BenchUsageException($"--transfer-mib {options.TransferMiB} is more than half of --memory ({options.MemoryBytes >> 20} MiB): each guest holds what it sends or receives in its RAM");
        return options;
    }

    private static DashboardBenchmarkOptions ParseDashboard(ReadOnlySpan<string> args)
    {
        var options = new DashboardBenchmarkOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            options = arg switch
            {
                "--changes" => options with { Changes = PositiveInt(NextValue(args, ref i, arg), arg) },
                _ => throw new BenchUsageException($"unknown option '{arg}'; {Usage}"),
            };
        }
        return options;
    }

    private static InterruptBenchmarkOptions ParseInterrupts(ReadOnlySpan<string> args)
    {
        var options = new InterruptBenchmarkOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            int value = PositiveInt(NextValue(args, ref i, arg), arg);
            options = arg switch
            {
                "--samples" => options with { Samples = value },
                "--timer-hz" => value <= 100_000 ? options with { TimerHz = value } : throw new BenchUsageException($"--timer-hz {value} is above 100000"),
                "--seconds" => options with { Seconds = value },
                _ => throw new BenchUsageException($"unknown option '{arg}'; {Usage}"),
            };
        }
        return options;
    }

    private static int PositiveInt(string text, string option) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0
            ? v
            : throw new BenchUsageException($"{option} '{text}' is not a positive whole number");

    private static TimeSpan Seconds(string text, string option) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0 && s <= TimeSpan.MaxValue.TotalSeconds / 2
            ? TimeSpan.FromSeconds(s)
            : throw new BenchUsageException($"{option} '{text}' is not a positive number of seconds");

    private static GuestBenchmarkOptions ParseGuest(ReadOnlySpan<string> args)
    {
        string? image = null;
        ulong memory = 64UL << 20;
        bool console = false, versusQemu = false;
        TimeSpan? timeout = null;
        CpuTier[] tiers = [CpuTierOptions.DefaultTier];
        int threshold = CpuTierOptions.DefaultThreshold;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string? inlineValue = null;
            int equals = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                inlineValue = arg[(equals + 1)..];
                arg = arg[..equals];
            }
            switch (arg)
            {
                case "--memory":
                    memory = ParseMemorySize(inlineValue ?? NextValue(args, ref i, arg));
                    break;
                case "--timeout":
                    timeout = Seconds(inlineValue ?? NextValue(args, ref i, arg), arg);
                    break;
                case "--console":
                    console = true;
                    break;
                case "--vs-qemu":
                    versusQemu = true;
                    break;
                case "--cpu-tier":
                    tiers = ParseTiers(inlineValue ?? NextValue(args, ref i, arg));
                    break;
                case "--threshold":
                    threshold = PositiveInt(inlineValue ?? NextValue(args, ref i, arg), arg);
                    break;
                default:
                    if (arg.StartsWith('-'))
                        throw new BenchUsageException($"unknown option '{arg}'; {Usage}");
                    if (image is not null)
                        throw new BenchUsageException($"more than one image given ('{image}' and '{arg}'); {Usage}");
                    image = args[i];
                    break;
            }
        }
        if (image is null)
            throw new BenchUsageException($"no guest image given; {Usage}");
        return new GuestBenchmarkOptions(image, memory, console, versusQemu, timeout, tiers, threshold);
    }

    private static CpuTier[] ParseTiers(string tier) =>
        tier == "both" ? [CpuTier.Interpreter, CpuTier.Translator]
        : CpuTierOptions.TryParseTier(tier, out CpuTier one) ? [one]
        : throw new BenchUsageException($"--cpu-tier must be interpreter, translator or both, not '{tier}'");

    private static string NextValue(ReadOnlySpan<string> args, ref int i, string option)
    {
        if (i + 1 >= args.Length)
            throw new BenchUsageException($"{option} needs a value; {Usage}");
        return args[++i];
    }

    /// <summary>Bytes from "64M", "1G", "512K", "65536" (binary units), a non-zero multiple of 4 KiB.</summary>
    internal static ulong ParseMemorySize(string text)
    {
        string t = text.Trim();
        ulong unit = 1;
        string digits = t;
        if (t.Length > 0)
        {
            string upper = t.ToUpperInvariant();
            foreach (var (suffix, factor) in new (string, ulong)[] { ("KIB", 1UL << 10), ("MIB", 1UL << 20), ("GIB", 1UL << 30), ("KB", 1UL << 10), ("MB", 1UL << 20), ("GB", 1UL << 30), ("K", 1UL << 10), ("M", 1UL << 20), ("G", 1UL << 30) })
            {
                if (upper.EndsWith(suffix, StringComparison.Ordinal))
                {
                    unit = factor;
                    digits = t[..^suffix.Length];
                    break;
                }
            }
        }
        if (!ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out ulong count) || count == 0 || count > ulong.MaxValue / unit)
            throw new BenchUsageException($"--memory '{text}' is not a size like 64M, 1G or 65536");
        ulong bytes = count * unit;
        if (bytes % 4096 != 0)
            throw new BenchUsageException($"--memory '{text}' is not a multiple of 4 KiB");
        return bytes;
    }
}
