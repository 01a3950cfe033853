using System.Diagnostics;
using Actors.HwBackend.Kvm;
using Actors.HwBackend.KvmConformance;

// usage: Actors.HwBackend.KvmConformance [--nested] GUESTS_DIR [LINUX_DIR]
// LINUX_DIR holds a stock kernel (vmlinuz) and an initrd whose /init runs the stock Linux test's script.
// --nested: KVM is nested in QEMU TCG, where an exit takes about 100 times as long as on hardware (see LinuxConformance).
// Prints one line per check: "PASS name (time)" or "FAIL name: reason", then "DONE passed/total"; exits 0 when all pass.
bool nested = args.Length > 0 && args[0] == "--nested";
string[] directories = nested ? args[1..] : args;
if (directories.Length is < 1 or > 2 || !directories.All(Directory.Exists))
{
    Console.Error.WriteLine("usage: Actors.HwBackend.KvmConformance [--nested] GUESTS_DIR [LINUX_DIR] (guests/ with build/ and expected/; a directory with vmlinuz, initrd and sha256)");
    return 2;
}

KvmBackend backend;
try
{
    backend = KvmBackend.Open();
}
catch (KvmException e)
{
    Console.WriteLine($"FAIL kvm-open: {e.Message}");
    return 1;
}

using (backend)
{
    Console.WriteLine($"kvm: {backend.Capabilities}");
    IEnumerable<(string Name, Func<string?> Check)> checks = new GuestConformance(backend, directories[0]).All()
        .Concat(new MigrationConformance(backend, directories[0]).All());
    if (directories.Length == 2)
        checks = checks.Concat(new LinuxConformance(backend, directories[1], nested).All());
    int passed = 0, total = 0;
    foreach ((string name, Func<string?> check) in checks)
    {
        total++;
        var clock = Stopwatch.StartNew();
        string? failure;
        try
        {
            failure = check();
        }
        catch (Exception e)
        {
            failure = $"{e.GetType().Name}: {e.Message}";
        }

        if (failure is null)
        {
            passed++;
            Console.WriteLine($"PASS {name} ({clock.ElapsedMilliseconds} ms)");
        }
        else
        {
            Console.WriteLine($"FAIL {name}: {failure.ReplaceLineEndings(" | ")}");
        }
    }

    Console.WriteLine($"DONE {passed}/{total}");
    return passed == total ? 0 : 1;
}
