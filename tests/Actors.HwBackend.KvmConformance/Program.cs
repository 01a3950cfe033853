using System.Diagnostics;
using Actors.HwBackend.Kvm;
using Actors.HwBackend.KvmConformance;

// usage: Actors.HwBackend.KvmConformance GUESTS_DIR
// Prints one line per check: "PASS name (time)" or "FAIL name: reason", then "DONE passed/total"; exits 0 when all pass.
if (args.Length != 1 || !Directory.Exists(args[0]))
{
    Console.Error.WriteLine("usage: Actors.HwBackend.KvmConformance GUESTS_DIR (the repository's guests/, with build/ and expected/)");
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
    var checks = new GuestConformance(backend, args[0]);
    int passed = 0, total = 0;
    foreach ((string name, Func<string?> check) in checks.All())
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
