using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Worker;

namespace Actors.HwBackend.KvmConformance;

/// <summary>
/// Every guest image of <c>guests/</c> on a backend, on the whole PC platform (<see cref="VmWorker"/>): each
/// must end with the exit status and console output QEMU gave it (<c>guests/expected</c>), as on the software CPU.
/// </summary>
internal sealed class GuestConformance(IHypervisorBackend backend, string guestsDirectory)
{
    private const ulong MemoryBytes = 64UL << 20;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    private static readonly (string Name, int Processors)[] Guests =
    [
        ("hello", 1), ("cpu-selftest", 1), ("compute", 1), ("intbench", 1), ("smp", 4), ("timer", 1), ("interrupts", 1), ("migrate-verify", 1),
    ];

    /// <summary>The Makefile's RUNS: an image with fw_cfg files, compared with its own expected files.</summary>
    private static readonly (string Name, string Image, string File, string Value)[] Runs =
    [
        ("intbench-quick", "intbench", "opt/actors/iterations", "100"),
    ];

    public IEnumerable<(string Name, Func<string?> Check)> All()
    {
        foreach ((string name, int processors) in Guests)
            yield return ($"guest-{name}", () => Run(name, name, processors, firmwareFiles: null));
        foreach ((string name, string image, string file, string value) in Runs)
            yield return ($"guest-{name}", () => Run(name, image, 1, new Dictionary<string, byte[]> { [file] = System.Text.Encoding.ASCII.GetBytes(value) }));
    }

    /// <summary>Null when the guest ended as QEMU's did; otherwise what differed.</summary>
    private string? Run(string name, string imageName, int processors, IReadOnlyDictionary<string, byte[]>? firmwareFiles)
    {
        byte[] image = File.ReadAllBytes(Path.Combine(guestsDirectory, "build", imageName + ".elf"));
        byte[] expectedOutput = File.ReadAllBytes(Path.Combine(guestsDirectory, "expected", name + ".out"));
        int expectedStatus = int.Parse(File.ReadAllText(Path.Combine(guestsDirectory, "expected", name + ".status")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        var console = new ConsoleCapture();
        using var ended = new RunEnd();
        using VmWorker worker = VmWorker.Create(backend, name, image, MemoryBytes, processors, console, ended.OnEnded, firmwareFiles);
        worker.Start();
        if (!ended.Wait(Deadline))
        {
            worker.Stop();
            return $"did not end within {Deadline.TotalMinutes:0} minutes; console so far: {console.Tail}";
        }

        byte[] output = console.Bytes;
        VmRunEnded end = ended.Last!;
        if (end.ExitStatus != expectedStatus)
            return $"exit status {end.ExitStatus?.ToString() ?? "none"} ({end.Reason}{(end.Failed ? ", failed" : "")}), expected {expectedStatus}; console: {console.Tail}";
        if (!output.AsSpan().SequenceEqual(expectedOutput))
            return $"console differs from QEMU's at byte {FirstDifference(output, expectedOutput)}: {console.Tail}";
        return null;
    }

    private static int FirstDifference(byte[] a, byte[] b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            if (a[i] != b[i])
                return i;
        }

        return n;
    }
}
